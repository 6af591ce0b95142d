"""``controller config``: every variable of the README, with the value the controller uses."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from dependency_injector import providers

from pg_backup_manager.adapters.postgres.pg_binaries import ClientTools, PgBinaries
from pg_backup_manager.entrypoints.containers import Container
from pg_backup_manager.entrypoints.main import main

from .fakes import FakeClock

README = Path(__file__).resolve().parents[2] / "README.md"
ENVIRON = {"DATABASE_LIST": "users", "USERS_POSTGRES_PASSWORD": "users-secret-pw"}
TOOLS_17 = ClientTools(
    directory=Path("/usr/lib/postgresql/17/bin"),
    found_by="newest /usr/lib/postgresql/*/bin",
    major=17,
)
_LINE = re.compile(r"(?P<variable>\S+) +(?P<value>.*?)  \[(?P<source>[^]]*)\]")


def config(
    capsys: pytest.CaptureFixture[str], tools: ClientTools = TOOLS_17, **environ: str
) -> tuple[int, dict[str, tuple[str, str]], str]:
    """Run ``controller config``; return its exit code, each variable's value and source,
    and its standard error."""
    container = Container(environ={**ENVIRON, **environ}, cwd=Path("/srv"))
    container.drop_root.override(providers.Object(lambda user: None))
    container.clock.override(FakeClock())
    container.client_tools.override(providers.Object(tools))

    code = main(["config"], container=container)

    out, err = capsys.readouterr()
    shown = {}
    for line in out.splitlines():
        found = _LINE.fullmatch(line)
        assert found is not None, line
        shown[found["variable"]] = (found["value"], found["source"])
    return code, shown, err


def readme_variables() -> list[str]:
    """Return every variable the README's configuration table names, for service USERS;
    a ``<X>_FILE`` that is another row's file is shown as that row's source."""
    section = README.read_text().split("## Configuration\n", 1)[1].split("\n### ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    names = []
    for row in rows:
        first = row.split(" | ")[0]
        names += [name.replace("<SERVICE>", "USERS") for name in re.findall(r"`([^`]+)`", first)]
    # "`NOTIFY_URLS` (or `_FILE`)": a suffix, not a variable.
    variables = [name for name in names if not name.startswith("_")]
    return [
        name.removesuffix("_FILE") if name.removesuffix("_FILE") in variables else name
        for name in variables
    ]


def test_config_prints_every_variable_of_the_readmes_configuration_table(
    capsys: pytest.CaptureFixture[str],
) -> None:
    documented = readme_variables()

    code, shown, err = config(capsys)

    assert code == 0, err
    assert len(documented) > 30
    assert [name for name in documented if name not in shown] == []


def test_config_prints_the_values_the_controller_derives_and_how(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, shown, err = config(capsys)

    assert code == 0, err
    assert shown["BACKUP_MAX_AGE"] == (
        "43200",
        "default: twice the longest gap of BACKUP_SCHEDULE",
    )
    assert shown["PG_BIN_DIR"] == (
        "/usr/lib/postgresql/17/bin",
        "default: newest /usr/lib/postgresql/*/bin",
    )
    assert shown["HEARTBEAT_FILE"] == (
        "/srv/backup-data/data/.heartbeat",
        "default: beside the backups",
    )
    assert shown["BACKUP_COMPRESSION"] == ("zstd:1", "default: with pg_dump 16 or newer")
    value, source = shown["RESTORE_JOBS"]
    assert 1 <= int(value) <= 4 and source == "default: the number of CPUs, at most 4"


def test_config_derives_the_max_age_from_the_schedule_and_the_heartbeat_from_the_mode(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, shown, err = config(capsys, BACKUP_SCHEDULE="@weekly", MODE="production")

    assert code == 0, err
    assert shown["BACKUP_MAX_AGE"][0] == str(14 * 24 * 3600)
    assert shown["HEARTBEAT_FILE"][0] == "/var/lib/postgresql/backup/data/.heartbeat"


def test_config_prints_values_of_the_environment_as_given(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, shown, err = config(
        capsys,
        BACKUP_MAX_AGE="3600",
        HEARTBEAT_FILE="/run/controller/heartbeat",
        BACKUP_COMPRESSION="gzip:6",
        RESTORE_JOBS="2",
    )

    assert code == 0, err
    assert shown["BACKUP_MAX_AGE"] == ("3600", "environment")
    assert shown["HEARTBEAT_FILE"] == ("/run/controller/heartbeat", "environment")
    assert shown["BACKUP_COMPRESSION"] == ("gzip:6", "environment")
    assert shown["RESTORE_JOBS"] == ("2", "environment")


def test_config_shows_each_retention_variable_and_the_rule_an_unset_one_follows(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, shown, err = config(capsys, KEEP_DAILY="28", OFFSITE_KEEP_WEEKLY_DAYS="90")

    assert code == 0, err
    retention = {name: shown[name] for name in shown if name.startswith(("KEEP", "OFFSITE_KEEP"))}
    assert retention == {
        "KEEP_DAILY_DAYS": ("(off)", "default: KEEP_DAILY counts"),
        "KEEP_WEEKLY_DAYS": ("30", "default"),
        "KEEP_MONTHLY_DAYS": ("365", "default"),
        "KEEP_DAILY": ("28", "environment"),
        "KEEP_WEEKLY": ("(off)", "default: KEEP_WEEKLY_DAYS counts"),
        "KEEP_MONTHLY": ("(off)", "default: KEEP_MONTHLY_DAYS counts"),
        "OFFSITE_KEEP_DAILY_DAYS": ("(off)", "default: KEEP_DAILY counts"),
        "OFFSITE_KEEP_WEEKLY_DAYS": ("90", "environment"),
        "OFFSITE_KEEP_MONTHLY_DAYS": ("365", "default: as KEEP_MONTHLY_DAYS"),
        "OFFSITE_KEEP_DAILY": ("28", "default: as KEEP_DAILY"),
        "OFFSITE_KEEP_WEEKLY": ("(off)", "default: OFFSITE_KEEP_WEEKLY_DAYS counts"),
        "OFFSITE_KEEP_MONTHLY": ("(off)", "default: KEEP_MONTHLY_DAYS counts"),
    }


def test_config_says_where_the_tools_were_found_and_their_default_compression(
    capsys: pytest.CaptureFixture[str],
) -> None:
    tools = ClientTools(directory=Path("/usr/bin"), found_by="PATH", major=15)

    code, shown, err = config(capsys, tools)

    assert code == 0, err
    assert shown["PG_BIN_DIR"] == ("/usr/bin", "default: PATH")
    assert shown["BACKUP_COMPRESSION"] == ("gzip", "default: pg_dump 15's own")


def test_config_refuses_a_compression_the_tools_in_use_do_not_have(
    capsys: pytest.CaptureFixture[str],
) -> None:
    tools = ClientTools(directory=Path("/usr/bin"), found_by="PATH", major=15)

    code, _, err = config(capsys, tools, BACKUP_COMPRESSION="zstd:3")

    assert code == 2
    assert err.startswith("error: BACKUP_COMPRESSION=zstd:3 needs pg_dump 16 or newer"), err


def test_config_says_when_no_client_tools_are_found(capsys: pytest.CaptureFixture[str]) -> None:
    tools = ClientTools(directory=None, found_by="nowhere", major=0)

    code, shown, err = config(capsys, tools)

    assert code == 0, err
    assert shown["PG_BIN_DIR"][0] == "(not found)"


def test_config_never_shows_the_password(capsys: pytest.CaptureFixture[str]) -> None:
    code, shown, err = config(capsys)

    assert code == 0, err
    assert shown["USERS_POSTGRES_PASSWORD"] == ("***", "environment")


def test_the_client_tools_are_the_newest_under_the_root_unless_pg_bin_dir_says(
    tmp_path: Path,
) -> None:
    for major in ("9.6", "15", "17"):
        (tmp_path / major / "bin").mkdir(parents=True)
        (tmp_path / major / "bin" / "pg_dump").write_text("")

    newest = PgBinaries(root=tmp_path).locate("pg_dump")
    chosen = PgBinaries(root=tmp_path, bin_dir=tmp_path / "15" / "bin").locate("pg_dump")

    assert newest == (tmp_path / "17" / "bin" / "pg_dump", f"newest {tmp_path}/*/bin")
    assert chosen == (tmp_path / "15" / "bin" / "pg_dump", "PG_BIN_DIR")
