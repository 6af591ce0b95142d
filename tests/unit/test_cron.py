"""BACKUP_SCHEDULE through cronsim, in a time zone, across daylight-saving changes."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from pg_backup_manager.adapters.cron import DEFAULT_SCHEDULE, CronSchedule
from pg_backup_manager.domain.errors import ConfigurationError

BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"
HOURLY = "0 * * * *"


def at(zone: str, year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(zone))


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def runs_from(schedule: CronSchedule, start: datetime, count: int) -> list[datetime]:
    runs = [schedule.next_after(start)]
    while len(runs) < count:
        runs.append(schedule.next_after(runs[-1]))
    return runs


def local_hours(schedule: CronSchedule, runs: list[datetime]) -> list[str]:
    return [run.astimezone(schedule.zone).strftime("%d %H:%M %Z") for run in runs]


# Ordinary days


def test_the_default_schedule_runs_at_three_nine_fifteen_and_twenty_one_local_time() -> None:
    schedule = CronSchedule.parse(DEFAULT_SCHEDULE, BERLIN)

    runs = runs_from(schedule, at(BERLIN, 2024, 7, 4, 8, 59), 5)

    assert local_hours(schedule, runs) == [
        "04 09:00 CEST",
        "04 15:00 CEST",
        "04 21:00 CEST",
        "05 03:00 CEST",
        "05 09:00 CEST",
    ]


def test_the_next_run_is_strictly_after_the_moment_and_in_utc() -> None:
    schedule = CronSchedule.parse(DEFAULT_SCHEDULE, "UTC")

    following = schedule.next_after(at(BERLIN, 2024, 7, 4, 23, 0))  # 21:00 UTC exactly

    assert following == utc(2024, 7, 5, 3)
    assert following.tzinfo is UTC


def test_the_last_run_of_a_year_is_followed_by_the_first_of_the_next() -> None:
    schedule = CronSchedule.parse("0 21 31 12 *", "UTC")

    assert schedule.next_after(utc(2024, 12, 31, 21)) == utc(2025, 12, 31, 21)


def test_a_leap_day_schedule_waits_for_the_next_leap_year() -> None:
    schedule = CronSchedule.parse("0 3 29 2 *", "UTC")

    assert schedule.next_after(utc(2024, 3, 1)) == utc(2028, 2, 29, 3)


@pytest.mark.parametrize(
    ("macro", "expected"),
    [
        ("@daily", utc(2024, 7, 5)),
        ("@midnight", utc(2024, 7, 5)),
        ("@hourly", utc(2024, 7, 4, 10)),
        ("@weekly", utc(2024, 7, 7)),
        ("@monthly", utc(2024, 8, 1)),
        ("@yearly", utc(2025, 1, 1)),
        ("@annually", utc(2025, 1, 1)),
        ("@DAILY", utc(2024, 7, 5)),
    ],
)
def test_the_macros_of_other_tools_are_accepted(macro: str, expected: datetime) -> None:
    assert CronSchedule.parse(macro, "UTC").next_after(utc(2024, 7, 4, 9, 30)) == expected


# Daylight saving: the spring-forward gap runs right after the jump, as Debian's cron does


@pytest.mark.parametrize(
    ("zone", "day", "after_the_jump"),
    [
        (BERLIN, date(2024, 3, 31), utc(2024, 3, 31, 1)),
        (NEW_YORK, date(2024, 3, 10), utc(2024, 3, 10, 7)),
    ],
)
def test_a_time_in_the_spring_forward_gap_runs_once_right_after_the_jump(
    zone: str, day: date, after_the_jump: datetime
) -> None:
    schedule = CronSchedule.parse("30 2 * * *", zone)

    runs = runs_from(schedule, at(zone, day.year, day.month, day.day - 1, 12), 2)

    assert runs[0] == after_the_jump
    assert runs[0].astimezone(schedule.zone).strftime("%H:%M") == "03:00"
    next_day = day + timedelta(days=1)
    assert runs[1].astimezone(schedule.zone) == at(zone, *next_day.timetuple()[:3], 2, 30)


def test_the_default_schedule_keeps_its_local_hours_on_the_spring_forward_day() -> None:
    schedule = CronSchedule.parse(DEFAULT_SCHEDULE, BERLIN)

    runs = runs_from(schedule, at(BERLIN, 2024, 3, 30, 22), 4)

    assert local_hours(schedule, runs) == [
        "31 03:00 CEST",
        "31 09:00 CEST",
        "31 15:00 CEST",
        "31 21:00 CEST",
    ]


def test_an_hourly_schedule_runs_after_the_jump_and_loses_the_missing_hour() -> None:
    schedule = CronSchedule.parse(HOURLY, BERLIN)

    runs = runs_from(schedule, at(BERLIN, 2024, 3, 31, 0, 30), 3)

    assert local_hours(schedule, runs) == ["31 01:00 CET", "31 03:00 CEST", "31 04:00 CEST"]


# Daylight saving: a repeated time runs once, the first time


@pytest.mark.parametrize(
    ("zone", "day", "first_time"),
    [
        (BERLIN, date(2024, 10, 27), utc(2024, 10, 27, 0, 30)),
        (NEW_YORK, date(2024, 11, 3), utc(2024, 11, 3, 5, 30)),
    ],
)
def test_a_time_in_the_repeated_hour_runs_once_at_its_first_occurrence(
    zone: str, day: date, first_time: datetime
) -> None:
    schedule = CronSchedule.parse(f"30 {1 if zone == NEW_YORK else 2} * * *", zone)

    runs = runs_from(schedule, at(zone, day.year, day.month, day.day - 1, 12), 2)

    assert runs[0] == first_time
    assert runs[1] - runs[0] == timedelta(hours=25)


def test_a_start_inside_the_repeated_hour_does_not_run_its_second_occurrence() -> None:
    schedule = CronSchedule.parse("30 2 * * *", BERLIN)
    inside_the_first = utc(2024, 10, 27, 0, 40)  # 02:40 CEST

    assert schedule.next_after(inside_the_first) == utc(2024, 10, 28, 1, 30)


def test_an_hourly_schedule_runs_each_hour_of_the_repeated_hour_as_cron_does() -> None:
    schedule = CronSchedule.parse(HOURLY, BERLIN)

    runs = runs_from(schedule, at(BERLIN, 2024, 10, 27, 0, 30), 4)

    assert local_hours(schedule, runs) == [
        "27 01:00 CEST",
        "27 02:00 CEST",
        "27 02:00 CET",
        "27 03:00 CET",
    ]


@pytest.mark.parametrize(
    ("zone", "first_day"),
    [
        (BERLIN, date(2024, 3, 28)),
        (BERLIN, date(2024, 10, 24)),
        (NEW_YORK, date(2024, 3, 7)),
        (NEW_YORK, date(2024, 10, 31)),
    ],
)
def test_a_daily_schedule_runs_once_on_each_day_of_a_dst_week(zone: str, first_day: date) -> None:
    schedule = CronSchedule.parse("30 2 * * *", zone)
    start = datetime.combine(first_day, time(0), tzinfo=schedule.zone)

    runs = runs_from(schedule, start, 7)

    days = Counter(run.astimezone(schedule.zone).date() for run in runs)
    assert days == {first_day + timedelta(days=offset): 1 for offset in range(7)}


# Bad input


@pytest.mark.parametrize(
    "expression", ["61 * * * *", "* * *", "0 3 30 2 *", "0 3 * * 8", "@reboot", "0 3 * * * *"]
)
def test_an_invalid_expression_is_a_configuration_error_naming_the_variable(
    expression: str,
) -> None:
    with pytest.raises(ConfigurationError, match="BACKUP_SCHEDULE") as raised:
        CronSchedule.parse(expression, "UTC")

    assert raised.value.exit_code == 2


@pytest.mark.parametrize("zone", ["Mars/Olympus", "../etc/passwd", ""])
def test_an_unknown_time_zone_is_named_with_its_setting(zone: str) -> None:
    with pytest.raises(ConfigurationError, match="TZ"):
        CronSchedule.parse(DEFAULT_SCHEDULE, zone)


def test_a_naive_instant_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        CronSchedule.parse(DEFAULT_SCHEDULE, "UTC").next_after(datetime(2024, 7, 4))


def test_the_schedule_reads_as_its_expression_and_zone() -> None:
    assert str(CronSchedule.parse("  0  3 * * *", BERLIN)) == "0 3 * * * (Europe/Berlin)"
