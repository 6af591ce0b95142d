"""The cron schedule: which instants backups run at, across month ends and DST switches."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from pg_backup_manager.domain.errors import ConfigurationError
from pg_backup_manager.domain.schedule import DEFAULT_SCHEDULE, CronSchedule, ScheduleError

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


def runs_between(schedule: CronSchedule, start: datetime, end: datetime) -> list[datetime]:
    runs = [schedule.next_after(start)]
    while (following := schedule.next_after(runs[-1])) < end:
        runs.append(following)
    return runs


def wall_times_in_week(schedule: CronSchedule, first_day: date) -> set[datetime]:
    """Each scheduled wall time of each day, placed as Python places it (fold=0), in UTC."""
    days = (first_day + timedelta(days=offset) for offset in range(7))
    return {
        datetime.combine(day, time(hour, minute), tzinfo=schedule.zone).astimezone(UTC)
        for day in days
        for hour in schedule.hours
        for minute in schedule.minutes
    }


# Ordinary days


def test_the_default_schedule_runs_at_the_next_of_three_nine_fifteen_and_twenty_one() -> None:
    schedule = CronSchedule.parse(DEFAULT_SCHEDULE, BERLIN)

    run = schedule.next_after(at(BERLIN, 2024, 7, 4, 10, 17))

    assert run == at(BERLIN, 2024, 7, 4, 15)
    assert run == utc(2024, 7, 4, 13)


def test_the_default_schedule_runs_four_times_a_day_at_local_hours() -> None:
    schedule = CronSchedule.parse(DEFAULT_SCHEDULE, BERLIN)

    runs = runs_from(schedule, at(BERLIN, 2024, 7, 4), 4)

    assert [run.astimezone(schedule.zone).hour for run in runs] == [3, 9, 15, 21]


def test_a_run_exactly_at_twenty_one_is_followed_by_three_the_next_morning() -> None:
    schedule = CronSchedule.parse(DEFAULT_SCHEDULE, BERLIN)

    run = schedule.next_after(at(BERLIN, 2024, 7, 4, 21))

    assert run == at(BERLIN, 2024, 7, 5, 3)


def test_the_next_run_is_in_utc_whatever_zone_the_instant_is_in() -> None:
    schedule = CronSchedule.parse(DEFAULT_SCHEDULE, BERLIN)

    run = schedule.next_after(at("Asia/Tokyo", 2024, 7, 4, 17, 30))

    assert run.tzinfo is UTC
    assert run == utc(2024, 7, 4, 13)


def test_the_last_run_of_a_month_is_followed_by_the_first_of_the_next() -> None:
    schedule = CronSchedule.parse(DEFAULT_SCHEDULE, "UTC")

    run = schedule.next_after(utc(2024, 4, 30, 21))

    assert run == utc(2024, 5, 1, 3)


def test_the_last_run_of_a_year_is_followed_by_the_first_of_the_next() -> None:
    schedule = CronSchedule.parse(DEFAULT_SCHEDULE, BERLIN)

    run = schedule.next_after(at(BERLIN, 2024, 12, 31, 21))

    assert run == at(BERLIN, 2025, 1, 1, 3)


def test_a_leap_day_schedule_waits_for_the_next_leap_year() -> None:
    schedule = CronSchedule.parse("0 3 29 2 *", "UTC")

    runs = runs_from(schedule, utc(2023, 3, 1), 2)

    assert runs == [utc(2024, 2, 29, 3), utc(2028, 2, 29, 3)]


def test_a_leap_day_schedule_waits_eight_years_across_a_century_that_is_not_leap() -> None:
    schedule = CronSchedule.parse("0 3 29 2 *", "UTC")

    run = schedule.next_after(utc(2096, 3, 1))

    assert run == utc(2104, 2, 29, 3)


# Spring forward: Berlin 2024-03-31 02:00 CET -> 03:00 CEST,
# New York 2024-03-10 02:00 EST -> 03:00 EDT


def test_the_default_schedule_keeps_its_local_hours_on_the_spring_forward_day_in_berlin() -> None:
    schedule = CronSchedule.parse(DEFAULT_SCHEDULE, BERLIN)

    runs = runs_from(schedule, at(BERLIN, 2024, 3, 30, 20), 5)

    assert runs == [
        utc(2024, 3, 30, 20),
        utc(2024, 3, 31, 1),
        utc(2024, 3, 31, 7),
        utc(2024, 3, 31, 13),
        utc(2024, 3, 31, 19),
    ]


def test_the_default_schedule_keeps_its_local_hours_on_the_spring_forward_day_in_new_york() -> None:
    schedule = CronSchedule.parse(DEFAULT_SCHEDULE, NEW_YORK)

    runs = runs_from(schedule, at(NEW_YORK, 2024, 3, 9, 20), 5)

    assert runs == [
        utc(2024, 3, 10, 2),
        utc(2024, 3, 10, 7),
        utc(2024, 3, 10, 13),
        utc(2024, 3, 10, 19),
        utc(2024, 3, 11, 1),
    ]


def test_a_run_in_the_spring_forward_gap_happens_once_after_the_gap() -> None:
    schedule = CronSchedule.parse("30 2 * * *", BERLIN)

    runs = runs_from(schedule, utc(2024, 3, 30, 12), 2)

    assert runs == [utc(2024, 3, 31, 1, 30), utc(2024, 4, 1, 0, 30)]
    assert runs[0] == at(BERLIN, 2024, 3, 31, 3, 30)


def test_a_run_in_the_spring_forward_gap_in_new_york_happens_once_after_the_gap() -> None:
    schedule = CronSchedule.parse("30 2 * * *", NEW_YORK)

    runs = runs_from(schedule, utc(2024, 3, 9, 12), 2)

    assert runs == [utc(2024, 3, 10, 7, 30), utc(2024, 3, 11, 6, 30)]


def test_an_hourly_schedule_runs_the_skipped_hour_and_the_next_as_one_run_in_berlin() -> None:
    schedule = CronSchedule.parse(HOURLY, BERLIN)

    runs = runs_from(schedule, at(BERLIN, 2024, 3, 30, 23, 30), 4)

    assert runs == [
        utc(2024, 3, 30, 23),
        utc(2024, 3, 31, 0),
        utc(2024, 3, 31, 1),
        utc(2024, 3, 31, 2),
    ]


def test_an_hourly_schedule_runs_the_skipped_hour_and_the_next_as_one_run_in_new_york() -> None:
    schedule = CronSchedule.parse(HOURLY, NEW_YORK)

    runs = runs_from(schedule, at(NEW_YORK, 2024, 3, 10, 0, 30), 3)

    assert runs == [utc(2024, 3, 10, 6), utc(2024, 3, 10, 7), utc(2024, 3, 10, 8)]


def test_a_run_exactly_at_the_end_of_the_gap_is_not_repeated() -> None:
    schedule = CronSchedule.parse(HOURLY, BERLIN)

    run = schedule.next_after(utc(2024, 3, 31, 1))

    assert run == utc(2024, 3, 31, 2)


def test_runs_come_in_time_order_when_a_short_gap_shifts_one_past_another() -> None:
    # Lord Howe springs forward by 30 minutes: 02:20 runs at 02:50, after 02:40.
    schedule = CronSchedule.parse("20,40 2 * * *", "Australia/Lord_Howe")

    runs = runs_from(schedule, at("Australia/Lord_Howe", 2024, 10, 6, 1), 3)

    assert [run.astimezone(schedule.zone).time() for run in runs] == [
        time(2, 40),
        time(2, 50),
        time(2, 20),
    ]


def test_a_run_on_a_day_the_zone_skipped_entirely_happens_on_the_next_day() -> None:
    # Samoa went from 2011-12-29 23:59 (-10) straight to 2011-12-31 00:00 (+14).
    schedule = CronSchedule.parse("0 12 30 12 *", "Pacific/Apia")

    run = schedule.next_after(at("Pacific/Apia", 2011, 12, 31, 6))

    assert run == at("Pacific/Apia", 2011, 12, 31, 12)


# Fall back: Berlin 2024-10-27 03:00 CEST -> 02:00 CET,
# New York 2024-11-03 02:00 EDT -> 01:00 EST


def test_the_default_schedule_keeps_its_local_hours_on_the_fall_back_day_in_berlin() -> None:
    schedule = CronSchedule.parse(DEFAULT_SCHEDULE, BERLIN)

    runs = runs_from(schedule, at(BERLIN, 2024, 10, 26, 20), 5)

    assert runs == [
        utc(2024, 10, 26, 19),
        utc(2024, 10, 27, 2),
        utc(2024, 10, 27, 8),
        utc(2024, 10, 27, 14),
        utc(2024, 10, 27, 20),
    ]


def test_the_default_schedule_keeps_its_local_hours_on_the_fall_back_day_in_new_york() -> None:
    schedule = CronSchedule.parse(DEFAULT_SCHEDULE, NEW_YORK)

    runs = runs_from(schedule, at(NEW_YORK, 2024, 11, 2, 20), 5)

    assert runs == [
        utc(2024, 11, 3, 1),
        utc(2024, 11, 3, 8),
        utc(2024, 11, 3, 14),
        utc(2024, 11, 3, 20),
        utc(2024, 11, 4, 2),
    ]


def test_a_run_in_the_repeated_hour_happens_once_at_its_first_occurrence() -> None:
    schedule = CronSchedule.parse("30 2 * * *", BERLIN)

    runs = runs_from(schedule, utc(2024, 10, 26, 12), 2)

    assert runs == [utc(2024, 10, 27, 0, 30), utc(2024, 10, 28, 1, 30)]


def test_a_run_in_the_repeated_hour_in_new_york_happens_once_at_its_first_occurrence() -> None:
    schedule = CronSchedule.parse("30 1 * * *", NEW_YORK)

    runs = runs_from(schedule, utc(2024, 11, 2, 12), 2)

    assert runs == [utc(2024, 11, 3, 5, 30), utc(2024, 11, 4, 6, 30)]


def test_half_past_two_is_an_ordinary_run_on_the_fall_back_day_in_new_york() -> None:
    schedule = CronSchedule.parse("30 2 * * *", NEW_YORK)

    run = schedule.next_after(utc(2024, 11, 2, 12))

    assert run == utc(2024, 11, 3, 7, 30)


def test_a_start_inside_the_repeated_hour_does_not_run_its_second_occurrence() -> None:
    schedule = CronSchedule.parse("30 2 * * *", BERLIN)

    run = schedule.next_after(at(BERLIN, 2024, 10, 27, 2, 45))

    assert run == utc(2024, 10, 28, 1, 30)


def test_an_hourly_schedule_runs_the_repeated_hour_once_in_berlin() -> None:
    schedule = CronSchedule.parse(HOURLY, BERLIN)

    runs = runs_from(schedule, at(BERLIN, 2024, 10, 27, 0, 30), 4)

    assert runs == [
        utc(2024, 10, 26, 23),
        utc(2024, 10, 27, 0),
        utc(2024, 10, 27, 2),
        utc(2024, 10, 27, 3),
    ]


def test_an_hourly_schedule_runs_the_repeated_hour_once_in_new_york() -> None:
    schedule = CronSchedule.parse(HOURLY, NEW_YORK)

    runs = runs_from(schedule, at(NEW_YORK, 2024, 11, 3, 0, 30), 3)

    assert runs == [utc(2024, 11, 3, 5), utc(2024, 11, 3, 7), utc(2024, 11, 3, 8)]


# Whole DST weeks: nothing skipped, nothing doubled

DST_WEEKS = [
    pytest.param(BERLIN, date(2024, 3, 28), id="berlin-spring"),
    pytest.param(BERLIN, date(2024, 10, 24), id="berlin-fall"),
    pytest.param(NEW_YORK, date(2024, 3, 7), id="new-york-spring"),
    pytest.param(NEW_YORK, date(2024, 10, 31), id="new-york-fall"),
]
EXPRESSIONS = [DEFAULT_SCHEDULE, HOURLY, "30 2 * * *", "30 1 * * *", "*/20 1-3 * * *"]


@pytest.mark.parametrize("expression", EXPRESSIONS)
@pytest.mark.parametrize(("zone", "first_day"), DST_WEEKS)
def test_iterating_over_a_dst_week_runs_every_wall_time_exactly_once(
    zone: str, first_day: date, expression: str
) -> None:
    schedule = CronSchedule.parse(expression, zone)
    start = datetime.combine(first_day, time(0), tzinfo=schedule.zone) - timedelta(seconds=1)
    end = datetime.combine(first_day + timedelta(days=7), time(0), tzinfo=schedule.zone)

    runs = runs_between(schedule, start, end)

    assert runs == sorted(wall_times_in_week(schedule, first_day))


@pytest.mark.parametrize(("zone", "first_day"), DST_WEEKS)
def test_a_daily_schedule_runs_once_on_each_day_of_a_dst_week(zone: str, first_day: date) -> None:
    schedule = CronSchedule.parse("30 2 * * *", zone)
    start = datetime.combine(first_day, time(0), tzinfo=schedule.zone)

    runs = runs_from(schedule, start, 7)

    days = Counter(run.astimezone(schedule.zone).date() for run in runs)
    assert days == {first_day + timedelta(days=offset): 1 for offset in range(7)}


@pytest.mark.parametrize(
    ("zone", "first_day", "expected_runs"),
    [
        pytest.param(BERLIN, date(2024, 3, 28), 7 * 24 - 1, id="berlin-spring"),
        pytest.param(BERLIN, date(2024, 10, 24), 7 * 24, id="berlin-fall"),
        pytest.param(NEW_YORK, date(2024, 3, 7), 7 * 24 - 1, id="new-york-spring"),
        pytest.param(NEW_YORK, date(2024, 10, 31), 7 * 24, id="new-york-fall"),
    ],
)
def test_an_hourly_schedule_loses_one_run_to_spring_forward_and_gains_none_from_fall_back(
    zone: str, first_day: date, expected_runs: int
) -> None:
    schedule = CronSchedule.parse(HOURLY, zone)
    start = datetime.combine(first_day, time(0), tzinfo=schedule.zone) - timedelta(seconds=1)
    end = datetime.combine(first_day + timedelta(days=7), time(0), tzinfo=schedule.zone)

    runs = runs_between(schedule, start, end)

    assert len(runs) == len(set(runs)) == expected_runs


@pytest.mark.parametrize("expression", [HOURLY, "30 2 * * *", "20,40 2 * * *"])
@pytest.mark.parametrize(
    ("zone", "first_day"), [*DST_WEEKS, ("Australia/Lord_Howe", date(2024, 10, 3))]
)
def test_from_any_start_the_next_run_is_the_earliest_scheduled_instant_after_it(
    zone: str, first_day: date, expression: str
) -> None:
    schedule = CronSchedule.parse(expression, zone)
    scheduled = sorted(wall_times_in_week(schedule, first_day))
    transition_day = datetime.combine(first_day + timedelta(days=3), time(0), tzinfo=UTC)
    starts = [transition_day - timedelta(hours=12) + timedelta(minutes=7 * n) for n in range(300)]

    for start in starts:
        assert schedule.next_after(start) == min(run for run in scheduled if run > start)


# Day of month and day of week


def test_a_day_matches_when_either_restricted_day_field_matches() -> None:
    schedule = CronSchedule.parse("0 3 1 * mon", "UTC")

    runs = runs_from(schedule, utc(2024, 7, 2), 5)

    assert [run.date() for run in runs] == [
        date(2024, 7, 8),
        date(2024, 7, 15),
        date(2024, 7, 22),
        date(2024, 7, 29),
        date(2024, 8, 1),
    ]


def test_a_day_must_match_the_day_of_week_when_the_day_of_month_is_a_star() -> None:
    schedule = CronSchedule.parse("0 3 * * fri", "UTC")

    run = schedule.next_after(utc(2024, 7, 1))

    assert run == utc(2024, 7, 5, 3)


def test_a_day_must_match_the_day_of_month_when_the_day_of_week_is_a_star() -> None:
    schedule = CronSchedule.parse("0 3 13 * *", "UTC")

    run = schedule.next_after(utc(2024, 7, 1))

    assert run == utc(2024, 7, 13, 3)


def test_a_day_field_beginning_with_a_star_counts_as_unrestricted_as_in_vixie_cron() -> None:
    schedule = CronSchedule.parse("0 3 */2 * mon", "UTC")

    run = schedule.next_after(utc(2024, 7, 1, 12))

    assert run == utc(2024, 7, 15, 3)


# Field syntax


def test_names_of_days_and_months_are_read_in_any_case() -> None:
    schedule = CronSchedule.parse("0 3 * JAN,jul Mon-fri", "UTC")

    assert schedule.months == {1, 7}
    assert schedule.days_of_week == {1, 2, 3, 4, 5}


def test_a_weekday_range_by_name_skips_the_weekend() -> None:
    schedule = CronSchedule.parse("0 3 * * mon-fri", "UTC")

    runs = runs_from(schedule, utc(2024, 7, 5, 12), 2)

    assert runs == [utc(2024, 7, 8, 3), utc(2024, 7, 9, 3)]


@pytest.mark.parametrize("sunday", ["0", "7", "sun", "SUN"])
def test_sunday_is_zero_seven_or_its_name(sunday: str) -> None:
    schedule = CronSchedule.parse(f"0 3 * * {sunday}", "UTC")

    run = schedule.next_after(utc(2024, 7, 3))

    assert run == utc(2024, 7, 7, 3)


def test_a_weekday_range_may_end_on_sunday_as_seven() -> None:
    schedule = CronSchedule.parse("0 3 * * 5-7", "UTC")

    assert schedule.days_of_week == {5, 6, 0}


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("*", set(range(60))),
        ("5", {5}),
        ("5,10,15", {5, 10, 15}),
        ("10-13", {10, 11, 12, 13}),
        ("*/15", {0, 15, 30, 45}),
        ("10-30/10", {10, 20, 30}),
        ("50/5", {50, 55}),
        ("1-3,40-59/10", {1, 2, 3, 40, 50}),
    ],
)
def test_a_field_allows_stars_numbers_lists_ranges_and_steps(
    field: str, expected: set[int]
) -> None:
    schedule = CronSchedule.parse(f"{field} 3 * * *", "UTC")

    assert schedule.minutes == expected


def test_the_schedule_reads_as_its_expression_and_zone() -> None:
    schedule = CronSchedule.parse("  0   3,9,15,21 * * * ", BERLIN)

    assert str(schedule) == "0 3,9,15,21 * * * (Europe/Berlin)"


# Errors


def test_an_hour_out_of_range_is_named_with_the_expression() -> None:
    with pytest.raises(ScheduleError) as error:
        CronSchedule.parse("0 25 * * *", BERLIN)

    assert str(error.value) == "invalid BACKUP_SCHEDULE '0 25 * * *': hour 25 is out of range 0-23"


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("", "expected 5 fields"),
        ("0 3 * *", "expected 5 fields (minute hour day-of-month month day-of-week), found 4"),
        ("0 3 * * * *", "found 6"),
        ("60 * * * *", "minute 60 is out of range 0-59"),
        ("0 3 0 * *", "day of month 0 is out of range 1-31"),
        ("0 3 * 13 *", "month 13 is out of range 1-12"),
        ("0 3 * * 8", "day of week 8 is out of range 0-7"),
        ("x 3 * * *", "minute 'x' is not a number"),
        ("0 3 * foo *", "month 'foo' is not a number or a name (jan-dec)"),
        ("0 3 * * jan", "day of week 'jan' is not a number or a name (sun-sat)"),
        ("0 mon * * *", "hour 'mon' is not a number"),
        ("0 5-3 * * *", "hour range '5-3' runs backwards"),
        ("0 -3 * * *", "hour '-3' is missing a number"),
        ("0 3, * * *", "hour '3,' has an empty list item"),
        ("*/0 3 * * *", "minute step '0' must be a whole number from 1"),
        ("*/x 3 * * *", "minute step 'x' must be a whole number from 1"),
        ("0 3 * * \u0661", "day of week '\u0661' is not a number"),
        ("0 0 30 2 *", "day of month 30 never occurs in feb, so it would never run"),
        ("0 0 31 4,6,9,11 *", "day of month 31 never occurs in apr,jun,sep,nov"),
    ],
)
def test_an_invalid_expression_says_which_field_is_wrong(expression: str, reason: str) -> None:
    with pytest.raises(ScheduleError) as error:
        CronSchedule.parse(expression, BERLIN)

    message = str(error.value)
    assert message.startswith(f"invalid BACKUP_SCHEDULE {expression!r}: ")
    assert reason in message
    assert "\n" not in message


def test_an_impossible_date_is_accepted_when_a_restricted_weekday_can_still_match() -> None:
    schedule = CronSchedule.parse("0 0 30 feb mon", "UTC")

    run = schedule.next_after(utc(2024, 7, 2))

    assert run == utc(2025, 2, 3)


@pytest.mark.parametrize(
    "zone", ["Mars/Base", "", "Europe", "europe/berlin", "/etc/localtime", "../x"]
)
def test_an_unknown_time_zone_is_named_with_its_setting(zone: str) -> None:
    with pytest.raises(ScheduleError) as error:
        CronSchedule.parse(DEFAULT_SCHEDULE, zone)

    assert str(error.value).startswith(f"unknown time zone {zone!r} (TZ): ")


def test_a_schedule_error_is_a_configuration_error_that_exits_with_two() -> None:
    with pytest.raises(ConfigurationError) as error:
        CronSchedule.parse("0 25 * * *", BERLIN)

    assert isinstance(error.value, ScheduleError)
    assert error.value.exit_code == 2


def test_a_naive_instant_is_refused() -> None:
    schedule = CronSchedule.parse(DEFAULT_SCHEDULE, BERLIN)

    with pytest.raises(ValueError, match="aware"):
        schedule.next_after(datetime(2024, 7, 4, 12))
