"""What a command run around a backup is told (its whole environment: never a password,
nothing else of the controller's), and what of its output reaches the log (bounded)."""

from __future__ import annotations

import logging
from pathlib import PurePath

import pytest

from pg_backup_manager.adapters import hooks
from pg_backup_manager.adapters.hook_process import Ran
from pg_backup_manager.domain.backups.hooks import Attempt
from pg_backup_manager.domain.names import BackupName

from .fakes import database

USERS = database("users", dbname="app", host="db.internal", port=6432, password="s3cret-pw")
DIRECTORY = PurePath("/var/lib/postgresql/backup/data/users")
NEW = BackupName.parse("file_daily_2024-07-04T09:00:00Z.dump")
CONTROLLER_ENVIRON = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "HOME": "/var/lib/postgresql",
    "LANG": "C.UTF-8",
    "TZ": "UTC",
    "USERS_POSTGRES_PASSWORD": "s3cret-pw",
    "AWS_SECRET_ACCESS_KEY": "aws-secret-key",
    "NOTIFY_URLS": "tgram://bottoken/123",
    "PGPASSWORD": "another-secret",
}


def base() -> dict[str, str]:
    return hooks.passed_on(CONTROLLER_ENVIRON, timezone="Europe/Berlin")


def test_a_pre_backup_command_is_told_the_database_and_nothing_of_the_controller() -> None:
    env = hooks.hook_environment(base=base(), database=USERS, directory=DIRECTORY, attempt=None)

    assert env == {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": "/var/lib/postgresql",
        "LANG": "C.UTF-8",
        "TZ": "Europe/Berlin",
        "BACKUP_PHASE": "pre",
        "BACKUP_DATABASE": "users",
        "BACKUP_DBNAME": "app",
        "BACKUP_HOST": "db.internal",
        "BACKUP_PORT": "6432",
        "BACKUP_USER": "postgres",
        "BACKUP_DIR": str(DIRECTORY),
        "BACKUP_PATH": "",
        "BACKUP_OUTCOME": "",
        "BACKUP_ERROR": "",
    }


COMMITTED = str(DIRECTORY / str(NEW))


@pytest.mark.parametrize(
    ("attempt", "told"),
    [
        (Attempt(backup=NEW), (COMMITTED, "success", "")),
        (
            Attempt(error="pg_dump failed (exit 1): refused"),
            ("", "failure", "pg_dump failed (exit 1): refused"),
        ),
        (
            Attempt(backup=NEW, error="shared copy failed"),
            (COMMITTED, "failure", "shared copy failed"),
        ),
    ],
)
def test_a_post_backup_command_is_told_the_backups_path_outcome_and_error(
    attempt: Attempt, told: tuple[str, str, str]
) -> None:
    path = DIRECTORY / str(attempt.backup) if attempt.backup is not None else None

    env = hooks.hook_environment(
        base=base(), database=USERS, directory=DIRECTORY, attempt=attempt, path=path
    )

    assert (env["BACKUP_PATH"], env["BACKUP_OUTCOME"], env["BACKUP_ERROR"]) == told
    assert env["BACKUP_PHASE"] == "post"


def test_no_password_or_token_of_the_controller_reaches_a_command() -> None:
    attempt = Attempt(backup=NEW)

    env = hooks.hook_environment(
        base=base(), database=USERS, directory=DIRECTORY, attempt=attempt, path=DIRECTORY
    )

    secrets = {"s3cret-pw", "aws-secret-key", "tgram://bottoken/123", "another-secret"}
    assert not [value for value in env.values() if any(s in value for s in secrets)]
    assert not set(env) & {"USERS_POSTGRES_PASSWORD", "PGPASSWORD", "AWS_SECRET_ACCESS_KEY"}


def test_without_a_path_in_the_controllers_environment_a_command_gets_the_default_one() -> None:
    assert hooks.passed_on({}, timezone="UTC") == {"PATH": "/bin:/usr/bin", "TZ": "UTC"}


def logged(caplog: pytest.LogCaptureFixture, ran: Ran) -> list[str]:
    with caplog.at_level(logging.INFO, logger="controller"):
        hooks._log_output("users", "PRE_BACKUP_COMMAND", ran, logging.INFO)
    return [record.getMessage() for record in caplog.records]


def test_a_commands_output_goes_to_the_log_line_by_line_control_characters_escaped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ran = Ran(code=0, tail=b"paused writers\n\x1b[31mred\x1b[0m\n\nbad \xff byte\n", dropped=0)

    lines = logged(caplog, ran)

    assert lines == [
        "users: PRE_BACKUP_COMMAND: paused writers",
        "users: PRE_BACKUP_COMMAND: \\x1b[31mred\\x1b[0m",
        "users: PRE_BACKUP_COMMAND: bad \ufffd byte",
    ]


def test_only_the_end_of_a_long_output_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    said = b"".join(b"line %d\n" % n for n in range(100_000))
    ran = Ran(code=0, tail=said[-hooks.KEPT_BYTES :], dropped=len(said) - hooks.KEPT_BYTES)

    lines = logged(caplog, ran)

    assert lines[0] == f"users: PRE_BACKUP_COMMAND said more; its last {hooks.KEPT_LINES} line(s):"
    assert len(lines) == hooks.KEPT_LINES + 1
    assert lines[-1] == "users: PRE_BACKUP_COMMAND: line 99999"


def test_the_end_of_one_long_line_is_logged_not_an_empty_list(
    caplog: pytest.LogCaptureFixture,
) -> None:
    said = b"x" * 100_000 + b" the end\n"
    ran = Ran(code=0, tail=said[-hooks.KEPT_BYTES :], dropped=len(said) - hooks.KEPT_BYTES)

    lines = logged(caplog, ran)

    assert lines[0] == "users: PRE_BACKUP_COMMAND said more; its last 1 line(s):"
    assert lines[1].endswith("x the end") and len(lines) == 2
