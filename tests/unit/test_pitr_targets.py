"""``recover --to``: latest, RFC 3339 (its seconds optional), or a local time in TZ, never
a guess."""

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
        ("2026-12-04T23:57:58.5z", datetime(2026, 12, 4, 23, 57, 58, 500000, tzinfo=UTC)),
        ("2026-12-04t23:57:58-05:30", datetime(2026, 12, 5, 5, 27, 58, tzinfo=UTC)),
        ("2026-12-04T23:57Z", datetime(2026, 12, 4, 23, 57, tzinfo=UTC)),  # minutes: :00
        ("2026-12-04T23:57:58.1234567Z", datetime(2026, 12, 4, 23, 57, 58, 123456, tzinfo=UTC)),
    ],
)
def test_times_become_utc(text: str, utc: datetime) -> None:
    assert parse(text) == utc


@pytest.mark.parametrize(
    "text",
    [
        "yesterday",
        "",
        "2026-13-01T00:00:00Z",
        "12:00 tomorrow",
        "2026-12-04_23:57:58Z",
        "2026-W49-5T23:57:58Z",
        "2026-12-04T23:57:58.Z",
        "2026-12-04T23:57:58Z\n",
        " 2026-12-04T23:57:58Z",
        "2026-12-04T23:57:58+00",
        "2026-12-04T23:57:58+0000",
        "2026-12-04",
        "2026-12-04T23",
        "20261204T235758Z",
        "2026-12-04T23:57:58+24:00",
        "2026-12-04T23:57:58+01:60",
        "2026-12-04T24:00:00Z",
        "2026-12-04T23:57:60Z",
        "\uff12\uff10\uff12\uff16-12-04T23:57:58Z",  # fullwidth digits
    ],
)
def test_anything_else_is_a_configuration_error_on_one_line(text: str) -> None:
    with pytest.raises(ConfigurationError, match="is not a time") as raised:
        parse(text)

    assert "\n" not in str(raised.value)


def test_a_local_time_shown_twice_needs_an_offset_and_is_told_the_two_of_its_zone() -> None:
    with pytest.raises(ConfigurationError, match="happens twice in Europe/Berlin") as berlin:
        parse("2026-10-25 02:30:00")
    with pytest.raises(ConfigurationError) as new_york:
        parse_target("2026-11-01 01:30", ZoneInfo("EST5EDT"), "EST5EDT")

    assert "give its offset, +02:00 or +01:00, or a UTC time" in str(berlin.value)
    assert str(new_york.value) == (
        "--to '2026-11-01 01:30' happens twice in EST5EDT (clocks go back): give its "
        "offset, -04:00 or -05:00, or a UTC time ending in Z"
    )
    assert parse_target("2026-11-01 01:30-05:00", ZoneInfo("EST5EDT"), "EST5EDT") == datetime(
        2026, 11, 1, 6, 30, tzinfo=UTC
    )


def test_a_local_time_skipped_needs_an_offset() -> None:
    with pytest.raises(ConfigurationError, match="never happens in Europe/Berlin"):
        parse("2026-03-29 02:30:00")
