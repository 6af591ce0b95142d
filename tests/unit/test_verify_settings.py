"""VERIFY_SCHEDULE and VERIFY_REMOTE: read strictly at start (exit 2, one line naming the
variable), shown by ``config``."""

from __future__ import annotations

from datetime import UTC, datetime
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
OFFSITE = {"OFFSITE_URL": "s3://bucket/prefix"}
RECIPIENT = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"


def settings(**environ: str) -> Settings:
    return Settings.from_environ({**ENVIRON, **environ}, cwd=CWD)


def test_verify_schedule_is_off_by_default() -> None:
    assert settings().verification is None


def test_verify_schedule_is_a_cron_schedule_in_tz() -> None:
    asked = settings(VERIFY_SCHEDULE="30 4 * * 0", TZ="Europe/Berlin").verification

    assert asked is not None and not asked.remote
    sunday = asked.schedule.next_after(datetime(2024, 7, 4, 9, 0, tzinfo=UTC))
    assert sunday == datetime(2024, 7, 7, 2, 30, tzinfo=UTC)  # 04:30 in Berlin's summer


def test_verify_remote_with_a_schedule_and_an_offsite_store_verifies_the_copies_too() -> None:
    asked = settings(VERIFY_SCHEDULE="@daily", VERIFY_REMOTE="true", **OFFSITE).verification

    assert asked is not None and asked.remote


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"VERIFY_SCHEDULE": "0 25 * * *"}, "^VERIFY_SCHEDULE '0 25 \\* \\* \\*' is not a cron"),
        ({"VERIFY_SCHEDULE": "every day"}, "^VERIFY_SCHEDULE 'every day' is not a cron"),
        ({"VERIFY_REMOTE": "sometimes"}, "^VERIFY_REMOTE must be true or false"),
        *(
            ({"VERIFY_REMOTE": loose}, f"^VERIFY_REMOTE must be true or false, not {loose!r}$")
            for loose in ("yes", "1", "on", "True", " true")
        ),
        ({"VERIFY_SCHEDULE": "30 4\n* * 0"}, "^VERIFY_SCHEDULE must be one line"),
        ({"VERIFY_REMOTE": "true"}, "^VERIFY_REMOTE=true needs VERIFY_SCHEDULE"),
        (
            {"VERIFY_REMOTE": "true", "VERIFY_SCHEDULE": "@daily"},
            "^VERIFY_REMOTE=true needs OFFSITE_URL",
        ),
        (
            {
                "VERIFY_REMOTE": "true",
                "VERIFY_SCHEDULE": "@daily",
                "ENCRYPTION_RECIPIENTS": RECIPIENT,
                **OFFSITE,
            },
            "^VERIFY_REMOTE=true needs ENCRYPTION_IDENTITY_FILE",
        ),
    ],
)
def test_a_bad_verify_setting_is_a_configuration_error_naming_it(
    environ: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        settings(**environ)


def test_start_with_a_bad_verify_schedule_exits_2_with_one_line_naming_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    environ = {**ENVIRON, "VERIFY_SCHEDULE": "61 * * * *"}

    container = Container(environ=environ, cwd=CWD)
    container.drop_root.override(providers.Object(lambda user: None))  # the tests stay root

    code = main(["start"], container=container)

    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    [line] = err.splitlines()
    assert line.startswith("error: VERIFY_SCHEDULE '61 * * * *' is not a cron schedule")


def test_config_shows_both_with_their_values_and_sources() -> None:
    unset = {entry.variable: entry for entry in effective(ENVIRON, ("users",))}
    given = {
        entry.variable: entry
        for entry in effective({**ENVIRON, "VERIFY_SCHEDULE": "30 4 * * 0"}, ("users",))
    }

    assert (unset["VERIFY_SCHEDULE"].value, unset["VERIFY_SCHEDULE"].source) == ("(off)", "default")
    assert (unset["VERIFY_REMOTE"].value, unset["VERIFY_REMOTE"].source) == ("false", "default")
    assert (given["VERIFY_SCHEDULE"].value, given["VERIFY_SCHEDULE"].source) == (
        "30 4 * * 0",
        "environment",
    )
