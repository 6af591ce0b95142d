from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pg_backup_manager.domain.names import BackupName, Tier
from pg_backup_manager.domain.pitr.naming import (
    StagingName,
    base_facts_name,
    base_of_facts_name,
    slot_name,
    time_of_name,
    utc_name,
)

IDENTIFIERS = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_-]{0,62}", fullmatch=True)
TIMES = st.datetimes(
    min_value=datetime(1970, 1, 1), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
)


def test_the_slot_is_named_after_the_service() -> None:
    assert slot_name("App-One") == "pg_backup_manager_app_one"


def test_a_long_service_name_is_cut_to_the_63_characters_of_a_slot_name() -> None:
    name = slot_name("a" * 63)

    assert name == "pg_backup_manager_" + "a" * 45
    assert len(name) == 63


@given(IDENTIFIERS)
def test_every_service_identifier_gives_a_valid_slot_name(identifier: str) -> None:
    name = slot_name(identifier)

    assert re.fullmatch(r"pg_backup_manager_[a-z0-9_]{1,45}", name)


@pytest.mark.parametrize("identifier", ["a.b", "a/b", "", "é"])
def test_an_identifier_that_cannot_name_a_slot_is_refused(identifier: str) -> None:
    with pytest.raises(ValueError, match="cannot name a replication slot"):
        slot_name(identifier)


def test_a_stream_is_named_by_its_utc_start_as_a_dump_is() -> None:
    at = datetime(2026, 12, 5, 0, 10, 0, 900_000, tzinfo=timezone(timedelta(hours=1)))

    name = utc_name(at)

    assert name == "2026-12-04T23:10:00Z"
    assert str(BackupName.for_run(tier=Tier.DAILY, at=at)) == f"file_daily_{name}.dump"


def test_a_naive_time_names_nothing() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        utc_name(datetime(2026, 12, 4, 23, 10))


@given(TIMES)
def test_a_name_reads_back_as_its_time_to_the_second(at: datetime) -> None:
    assert time_of_name(utc_name(at)) == at.replace(microsecond=0)


@pytest.mark.parametrize(
    "text",
    [
        "2026-12-04T24:00:00Z",
        "2026-02-30T10:00:00Z",
        "2026-12-04t10:00:00Z",
        "2026-12-04T10:00:00z",
        "2026-12-04T10:00:00.5Z",
        "2026-12-04T10:00:00+00:00",
        "2026-12-04 10:00:00Z",
        "../2026-12-04T10:00:00Z",
        "2026-12-04T10:00:00Z.json",
    ],
)
def test_anything_else_is_no_stream_or_base_name(text: str) -> None:
    assert time_of_name(text) is None


def test_a_base_backups_facts_are_named_after_it() -> None:
    assert base_facts_name("2026-12-04T23:10:00Z") == "2026-12-04T23:10:00Z.json"
    assert base_of_facts_name("2026-12-04T23:10:00Z.json") == datetime(
        2026, 12, 4, 23, 10, tzinfo=UTC
    )
    assert base_of_facts_name("2026-12-04T23:10:00Z") is None
    assert base_of_facts_name("2026-12-04T23:10:00Z.json.tmp") is None


def test_a_staging_name_says_when_and_by_whom() -> None:
    staging = StagingName(started_at=datetime(2026, 12, 4, 23, 10, tzinfo=UTC), pid=4242)

    assert str(staging) == ".2026-12-04T23:10:00Z.4242.partial"
    assert StagingName.from_text(str(staging)) == staging


@pytest.mark.parametrize(
    "text",
    [
        "2026-12-04T23:10:00Z.4242.partial",  # not hidden
        ".2026-12-04T23:10:00Z.0.partial",
        ".2026-12-04T23:10:00Z.04242.partial",
        ".2026-12-04T23:10:00Z.partial",
        ".2026-02-30T23:10:00Z.4242.partial",
        ".2026-12-04T23:10:00Z.4242.partial/data",
    ],
)
def test_anything_else_is_no_staging_name(text: str) -> None:
    assert StagingName.from_text(text) is None
