"""``recover --to``: latest, RFC 3339, or a local time in TZ, never a guess."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from pg_backup_manager.domain.errors import ConfigurationError
from pg_backup_manager.domain.pitr.recovery.plan import LATEST
from pg_backup_manager.domain.pitr.recovery.targets import parse_target

BERLIN = ZoneInfo("Europe/Berlin")


def parse(text: str) -> object:
    return parse_target(text, BERLIN, "Europe/Berlin")


@pytest.mark.parametrize("text", ["latest", "LATEST", " latest "])
def test_latest(text: str) -> None:
    assert parse(text) is LATEST


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2026-12-04T10:15:00Z", datetime(2026, 12, 4, 10, 15, tzinfo=UTC)),
        ("2026-12-04T11:15:00.250+01:00", datetime(2026, 12, 4, 10, 15, 0, 250000, tzinfo=UTC)),
        ("2026-12-04 11:15:00", datetime(2026, 12, 4, 10, 15, tzinfo=UTC)),  # CET in Berlin
        ("2026-07-04 12:00", datetime(2026, 7, 4, 10, 0, tzinfo=UTC)),  # CEST
    ],
)
def test_times_become_utc(text: str, utc: datetime) -> None:
    assert parse(text) == utc


@pytest.mark.parametrize("text", ["yesterday", "", "2026-13-01T00:00:00Z", "12:00 tomorrow"])
def test_anything_else_is_a_configuration_error(text: str) -> None:
    with pytest.raises(ConfigurationError, match="is not a time"):
        parse(text)


def test_a_local_time_shown_twice_needs_an_offset() -> None:
    with pytest.raises(ConfigurationError, match="happens twice in Europe/Berlin"):
        parse("2026-10-25 02:30:00")


def test_a_local_time_skipped_needs_an_offset() -> None:
    with pytest.raises(ConfigurationError, match="never happens in Europe/Berlin"):
        parse("2026-03-29 02:30:00")
