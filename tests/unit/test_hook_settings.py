"""``PRE_BACKUP_COMMAND``, ``POST_BACKUP_COMMAND``, their ``<SERVICE>_`` overrides and
``HOOK_TIMEOUT``: split as a shell splits words, the program found at start, strictly."""

from __future__ import annotations

from pathlib import Path

import pytest

from pg_backup_manager.adapters.configuration.hooks import DEFAULT_HOOK_TIMEOUT, HookCommand
from pg_backup_manager.adapters.settings import Settings
from pg_backup_manager.domain.errors import ConfigurationError

CWD = Path("/srv/app")


@pytest.fixture
def bin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A directory on PATH with an executable ``pause-writers`` and a plain file ``notes``."""
    directory = tmp_path / "bin"
    directory.mkdir()
    (directory / "pause-writers").write_text("#!/bin/sh\n")
    (directory / "pause-writers").chmod(0o755)
    (directory / "notes").write_text("not a program\n")
    monkeypatch.setenv("PATH", str(directory))
    return directory


def hooks(**environ: str) -> Settings:
    return Settings.from_environ({"DATABASE_LIST": "users,orders", **environ}, cwd=CWD)


def refused(**environ: str) -> ConfigurationError:
    with pytest.raises(ConfigurationError) as raised:
        hooks(**environ)
    assert raised.value.exit_code == 2
    return raised.value


def test_a_command_is_split_as_a_shell_splits_words_and_its_program_found_on_path(
    bin_dir: Path,
) -> None:
    settings = hooks(PRE_BACKUP_COMMAND="""pause-writers --reason 'nightly backup' "a b"\\ c""")

    expected = HookCommand(
        argv=(str(bin_dir / "pause-writers"), "--reason", "nightly backup", "a b c"),
        variable="PRE_BACKUP_COMMAND",
    )
    assert settings.hooks.pre == {"users": expected, "orders": expected}
    assert settings.hooks.post == {}


def test_without_any_command_no_database_runs_one_and_the_timeout_is_five_minutes() -> None:
    settings = hooks()

    assert (settings.hooks.pre, settings.hooks.post) == ({}, {})
    assert settings.hooks.timeout == DEFAULT_HOOK_TIMEOUT == 300
    assert settings.hooks.run_seconds == 0


def test_a_services_own_command_replaces_the_global_one_and_none_turns_it_off(
    bin_dir: Path,
) -> None:
    settings = hooks(
        POST_BACKUP_COMMAND="pause-writers --off",
        USERS_POST_BACKUP_COMMAND=f"{bin_dir}/pause-writers --users",
        ORDERS_PRE_BACKUP_COMMAND="pause-writers",
        ORDERS_POST_BACKUP_COMMAND="none",
        HOOK_TIMEOUT="60",
    )

    assert {i: c.argv[1:] for i, c in settings.hooks.post.items()} == {"users": ("--users",)}
    assert settings.hooks.post["users"].variable == "USERS_POST_BACKUP_COMMAND"
    assert list(settings.hooks.pre) == ["orders"]
    assert settings.hooks.run_seconds == 120


def test_a_blank_service_command_is_unset_and_the_global_one_runs(bin_dir: Path) -> None:
    settings = hooks(PRE_BACKUP_COMMAND="pause-writers", USERS_PRE_BACKUP_COMMAND="  ")

    assert settings.hooks.pre["users"].variable == "PRE_BACKUP_COMMAND"


def test_a_program_missing_from_path_is_exit_2_naming_the_variable(bin_dir: Path) -> None:
    error = refused(ORDERS_POST_BACKUP_COMMAND="resume-writers --now")

    assert str(error).startswith("ORDERS_POST_BACKUP_COMMAND: no program 'resume-writers' on PATH")


def test_a_file_that_is_not_executable_or_missing_is_exit_2_naming_it(bin_dir: Path) -> None:
    not_executable = refused(PRE_BACKUP_COMMAND=f"{bin_dir}/notes")
    missing = refused(PRE_BACKUP_COMMAND=f"{bin_dir}/gone")
    directory = refused(PRE_BACKUP_COMMAND=str(bin_dir))

    assert str(not_executable) == (
        f"PRE_BACKUP_COMMAND: {bin_dir}/notes is not an executable file for this user: "
        "give a program it can run"
    )
    assert f"{bin_dir}/gone does not exist" in str(missing)
    assert f"{bin_dir} is not an executable file" in str(directory)


def test_a_relative_path_is_refused_whatever_the_working_directory(bin_dir: Path) -> None:
    error = refused(USERS_PRE_BACKUP_COMMAND="./bin/pause-writers")

    assert "'./bin/pause-writers' is a relative path" in str(error)


def test_unbalanced_quotes_or_no_program_are_exit_2(bin_dir: Path) -> None:
    unbalanced = refused(PRE_BACKUP_COMMAND="pause-writers 'nightly")
    empty = refused(POST_BACKUP_COMMAND="''")

    assert str(unbalanced).startswith("PRE_BACKUP_COMMAND cannot be split")
    assert "no shell runs it" in str(unbalanced)
    assert str(empty).startswith("POST_BACKUP_COMMAND names no program")


@pytest.mark.parametrize("timeout", ["0", "-5", "5m", "604801", " 3", "3 ", "3\n"])
def test_a_hook_timeout_out_of_range_is_exit_2(timeout: str) -> None:
    error = refused(HOOK_TIMEOUT=timeout)

    assert str(error).startswith("HOOK_TIMEOUT must be a number of seconds from 1 to 604800")


@pytest.mark.parametrize("written", ["nonE", "None", "NONE", " none", "none ", "none\n"])
def test_a_services_none_is_exactly_none_in_lower_case(bin_dir: Path, written: str) -> None:
    error = refused(PRE_BACKUP_COMMAND="pause-writers", ORDERS_PRE_BACKUP_COMMAND=written)

    assert str(error) == (
        "ORDERS_PRE_BACKUP_COMMAND must be exactly none (lower case, nothing around it) to "
        f"run no command for this service, not {written!r}"
    )


@pytest.mark.parametrize("variable", ["PRE_BACKUP_COMMAND", "POST_BACKUP_COMMAND"])
@pytest.mark.parametrize("written", ["none", "NONE", " none "])
def test_none_is_refused_for_the_global_command_which_unset_turns_off(
    bin_dir: Path, variable: str, written: str
) -> None:
    error = refused(**{variable: written})

    assert str(error) == (
        f"{variable}: none is for <SERVICE>_{variable} alone (it turns {variable} off for "
        f"one service): leave {variable} unset to run no command"
    )
