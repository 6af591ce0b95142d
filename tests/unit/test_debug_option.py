"""``--debug`` after the command as before it: every command takes it."""

from __future__ import annotations

from pathlib import Path

import pytest
from dependency_injector import providers

from pg_backup_manager.domain.errors import ConfigurationError
from pg_backup_manager.entrypoints.cli import cli
from pg_backup_manager.entrypoints.containers import Container
from pg_backup_manager.entrypoints.main import main

BAD = {"DATABASE_LIST": "users", "KEEP_DAILY": "seven"}


def container(environ: dict[str, str]) -> Container:
    built = Container(environ=environ, cwd=Path("/srv/app"))
    built.drop_root.override(providers.Object(lambda user: None))  # the tests stay root
    return built


@pytest.mark.parametrize("command", sorted(cli.commands))
def test_every_command_takes_debug_after_its_name(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main([command, "--debug", "--help"], container=container(BAD))

    out, err = capsys.readouterr()
    assert code == 0 and err == ""
    assert "--debug" in out


@pytest.mark.parametrize("argv", [["status", "--debug"], ["--debug", "status"]])
def test_debug_before_or_after_the_command_shows_the_traceback(argv: list[str]) -> None:
    with pytest.raises(ConfigurationError, match=r"^KEEP_DAILY must be a whole number"):
        main(argv, container=container(BAD))


def test_without_debug_the_error_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["status"], container=container(BAD))

    _, err = capsys.readouterr()
    assert code == 2
    assert err == "error: KEEP_DAILY must be a whole number from 1 to 10000, not 'seven'\n"
