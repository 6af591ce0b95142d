from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pg_backup_manager.domain.errors import ConfigurationError, InvalidBackupNameError
from pg_backup_manager.domain.model import check_identifier
from pg_backup_manager.domain.names import BackupName, Tier

from .fakes import LAYOUT


def test_a_backup_name_reads_as_the_readme_shows() -> None:
    name = BackupName.for_run(tier=Tier.DAILY, at=datetime(2024, 7, 4, 9, 0, tzinfo=UTC))

    assert str(name) == "file_daily_2024-07-04T09:00:00Z.dump"


def test_the_timestamp_of_a_name_is_utc_whatever_the_zone_of_the_run() -> None:
    berlin_summer = timezone(timedelta(hours=2))

    name = BackupName.for_run(
        tier=Tier.WEEKLY, at=datetime(2024, 7, 6, 11, 30, 15, 999, tzinfo=berlin_summer)
    )

    assert str(name) == "file_weekly_2024-07-06T09:30:15Z.dump"


@given(
    tier=st.sampled_from(Tier),
    at=st.datetimes(
        min_value=datetime(1970, 1, 1), max_value=datetime(9999, 1, 1), timezones=st.just(UTC)
    ),
)
def test_parse_and_format_are_inverse(tier: Tier, at: datetime) -> None:
    name = BackupName.for_run(tier=tier, at=at)

    assert BackupName.parse(str(name)) == name


@pytest.mark.parametrize(
    "text",
    [
        "file.dump",
        "notes.txt",
        "file_daily_2024-07-04T09:00:00Z.dump.sha256",
        ".file_daily_2024-07-04T09:00:00Z.dump.123.partial",
        "file_hourly_2024-07-04T09:00:00Z.dump",
        "file_daily_2024-07-04 09:00:00Z.dump",
        "file_daily_2024-02-30T09:00:00Z.dump",
        "../file_daily_2024-07-04T09:00:00Z.dump",
        "sub/file_daily_2024-07-04T09:00:00Z.dump",
        "/abs/file_daily_2024-07-04T09:00:00Z.dump",
        "file_daily_2024-07-04T09:00:00Z.dump\n",
        "file_Daily_2024-07-04T09:00:00Z.dump",
        "file_daily_2024-07-04T24:00:00Z.dump",
        "file_daily_2024-07-04T09:00:60Z.dump",
        "file_daily_2024-7-04T09:00:00Z.dump",
        "file_daily_2024-07-04T09:00:00+00:00.dump",
        "file_daily_2024-07-04T09:00:00.000Z.dump",
        "file_daily_\u0662\u0660\u0662\u0664-07-04T09:00:00Z.dump",  # Arabic-Indic digits
    ],
)
def test_anything_else_is_not_a_backup(text: str) -> None:
    assert not BackupName.is_backup(text)
    with pytest.raises(InvalidBackupNameError, match="not a backup name"):
        BackupName.parse(text)


def test_a_name_found_in_a_directory_is_spelled_as_its_file() -> None:
    text = "file_monthly_2024-07-01T03:00:00Z.dump"

    name = BackupName.from_text(text)

    assert name is not None
    assert (str(name), name.tier, name.taken_at) == (
        text,
        Tier.MONTHLY,
        datetime(2024, 7, 1, 3, tzinfo=UTC),
    )
    assert name.globals_name == "file_monthly_2024-07-01T03:00:00Z.globals.sql"


def test_newer_names_sort_after_older_ones_whatever_their_tier() -> None:
    older = BackupName.parse("file_monthly_2024-07-01T03:00:00Z.dump")
    newer = BackupName.parse("file_daily_2024-07-02T03:00:00Z.dump")

    assert max(older, newer) == newer


@pytest.mark.parametrize("identifier", ["users", "my-db", "db_2", "A1"])
def test_service_names_of_letters_digits_dashes_and_underscores_are_identifiers(
    identifier: str,
) -> None:
    assert check_identifier(identifier) == identifier


@pytest.mark.parametrize("identifier", ["", "a/b", "..", "../x", "-x", "a b", "x" * 64, "é"])
def test_names_that_could_escape_a_directory_are_refused(identifier: str) -> None:
    with pytest.raises(ConfigurationError, match="invalid database identifier"):
        check_identifier(identifier)


def test_paths_of_a_database_stay_under_their_roots() -> None:
    assert str(LAYOUT.backup_dir("users")) == "/backup/data/users"
    assert str(LAYOUT.shared_dir("users")) == "/backup/shared/users"
    assert str(LAYOUT.database_dir("users")) == "/databases/users"
    with pytest.raises(ConfigurationError):
        LAYOUT.backup_dir("../etc")
