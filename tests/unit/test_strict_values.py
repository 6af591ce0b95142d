"""Values read as the README writes them, nothing looser: booleans ``true`` or ``false``,
numbers ASCII digits alone, schedules on one line; and ``config`` prints each variable on
one line whatever it holds."""

from __future__ import annotations

from pathlib import Path

import pytest
from dependency_injector import providers

from pg_backup_manager.adapters.config_report import effective
from pg_backup_manager.adapters.settings import Settings
from pg_backup_manager.domain.errors import ConfigurationError
from pg_backup_manager.entrypoints.containers import Container
from pg_backup_manager.entrypoints.main import main

CWD = Path("/srv/app")
ENVIRON = {"DATABASE_LIST": "users"}
BOOLEANS = [
    "COPING_TO_SHARED",
    "COPYING_TO_SHARED",
    "BACKUP_ON_START",
    "BACKUP_GROUP_READABLE",
    "USERS_WAL_ARCHIVE",
    "S3_FORCE_PATH_STYLE",
    "OFFSITE_RETENTION",
    "VERIFY_REMOTE",
]
SCHEDULES = ["BACKUP_SCHEDULE", "USERS_BACKUP_SCHEDULE", "VERIFY_SCHEDULE", "BASE_BACKUP_SCHEDULE"]


def settings(**environ: str) -> Settings:
    return Settings.from_environ({**ENVIRON, **environ}, cwd=CWD)


def refused(**environ: str) -> str:
    with pytest.raises(ConfigurationError) as raised:
        settings(**environ)
    assert raised.value.exit_code == 2
    message = str(raised.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize("variable", BOOLEANS)
@pytest.mark.parametrize("loose", ["yes", "1", "on", "no", "0", "off", "True", "FALSE", " true"])
def test_a_boolean_is_true_or_false_as_the_readme_writes_them(variable: str, loose: str) -> None:
    message = refused(**{variable: loose})

    assert message == f"{variable} must be true or false, not {loose!r}"


def test_true_and_false_in_lower_case_are_read() -> None:
    on = settings(COPING_TO_SHARED="true", BACKUP_GROUP_READABLE="true")
    off = settings(COPING_TO_SHARED="false", BACKUP_GROUP_READABLE="false")

    assert on.config.copy_to_shared and on.file_mode == 0o640
    assert not off.config.copy_to_shared and off.file_mode == 0o600


@pytest.mark.parametrize(
    ("variable", "start"),
    [
        ("KEEP_DAILY", "KEEP_DAILY must be a whole number from 1 to 10000"),
        ("KEEP_WEEKLY_DAYS", "KEEP_WEEKLY_DAYS must be a whole number from 1 to 10000"),
        ("OFFSITE_KEEP_MONTHLY", "OFFSITE_KEEP_MONTHLY must be a whole number from 1 to 10000"),
        ("HOOK_TIMEOUT", "HOOK_TIMEOUT must be a number of seconds from 1 to 604800"),
        ("BACKUP_TIMEOUT", "BACKUP_TIMEOUT must be a number of seconds from 1 to 604800"),
        ("BACKUP_PARALLELISM", "BACKUP_PARALLELISM must be a whole number from 1 to 10000"),
        ("USERS_POSTGRES_PORT", "USERS_POSTGRES_PORT must be a TCP port number"),
        ("PITR_RETENTION_DAYS", "PITR_RETENTION_DAYS must be a whole number from 1 to 10000"),
    ],
)
@pytest.mark.parametrize("loose", [" 5", "5 ", "5\n", "\t5"])
def test_a_number_with_blanks_around_it_is_refused_naming_its_variable(
    variable: str, start: str, loose: str
) -> None:
    message = refused(**{variable: loose})

    assert message.startswith(start) and message.endswith(f"not {loose!r}"), message


@pytest.mark.parametrize("variable", SCHEDULES)
@pytest.mark.parametrize("loose", ["0 3\n* * *", "0 3 * * *\n", "\t0 3 * * *", "0 3 * * *\x00"])
def test_a_schedule_with_a_control_character_is_refused_naming_its_variable(
    variable: str, loose: str
) -> None:
    message = refused(**{variable: loose})

    assert message == f"{variable} must be one line without control characters, not {loose!r}"


def test_config_prints_each_variable_on_one_line_whatever_it_holds() -> None:
    environ = {**ENVIRON, "USERS_EXCLUDE_TABLES": "audit,\nlogs\t", "NOTIFY_ON": "always"}

    entries = {entry.variable: entry for entry in effective(environ, ("users",))}

    assert entries["USERS_EXCLUDE_TABLES"].value == "audit,\\nlogs\\t"
    assert entries["NOTIFY_ON"].value == "always"


def test_start_with_a_schedule_over_two_lines_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    container = Container(environ={**ENVIRON, "BACKUP_SCHEDULE": "0 3\n* * *"}, cwd=CWD)
    container.drop_root.override(providers.Object(lambda user: None))  # the tests stay root

    code = main(["config"], container=container)

    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err == (
        "error: BACKUP_SCHEDULE must be one line without control characters, not '0 3\\n* * *'\n"
    )
