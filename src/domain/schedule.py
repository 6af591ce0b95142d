"""When backups run: a small five-field cron evaluator that knows about time zones."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from pg_backup_manager.domain.errors import ConfigurationError

DEFAULT_SCHEDULE = "0 3,9,15,21 * * *"
"""Four runs a day, at 03:00, 09:00, 15:00 and 21:00 local time."""

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_LONGEST_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_ONE_DAY = timedelta(days=1)
# 29 February can be eight years away (2096 -> 2104); parse() rejects dates that never occur.
_SEARCH_DAYS = 9 * 366
# No real offset jump is near two days, so a run two wall days later is always later in time.
_LOOKAHEAD_DAYS = 2


class ScheduleError(ConfigurationError):
    """A schedule or time zone that cannot be used; the message names the setting."""


class _InvalidField(Exception):
    """One field is wrong; the message says why, without the expression."""


@attrs.frozen
class _Field:
    label: str
    low: int
    high: int
    names: tuple[str, ...] = ()

    def parse(self, text: str) -> frozenset[int]:
        """Return the values ``text`` allows; raise _InvalidField when it is not valid."""
        if "" in text.split(","):
            raise _InvalidField(f"{self.label} {text!r} has an empty list item")
        values: set[int] = set()
        for item in text.split(","):
            values.update(self._item(item))
        return frozenset(values)

    def _item(self, item: str) -> range:
        base, slash, step_text = item.partition("/")
        step = self._step(step_text) if slash else 1
        if base == "*":
            return range(self.low, self.high + 1, step)
        first_text, dash, last_text = base.partition("-")
        first = self._number(first_text, item)
        last = self._number(last_text, item) if dash else (self.high if slash else first)
        if first > last:
            raise _InvalidField(f"{self.label} range {base!r} runs backwards")
        return range(first, last + 1, step)

    def _step(self, text: str) -> int:
        if not (text.isascii() and text.isdigit()) or int(text) == 0:
            raise _InvalidField(f"{self.label} step {text!r} must be a whole number from 1")
        return int(text)

    def _number(self, text: str, item: str) -> int:
        if not text:
            raise _InvalidField(f"{self.label} {item!r} is missing a number")
        if text.lower() in self.names:
            return self.low + self.names.index(text.lower())
        if not (text.isascii() and text.isdigit()):
            names = f" or a name ({self.names[0]}-{self.names[-1]})" if self.names else ""
            raise _InvalidField(f"{self.label} {text!r} is not a number{names}")
        if not self.low <= int(text) <= self.high:
            raise _InvalidField(f"{self.label} {text} is out of range {self.low}-{self.high}")
        return int(text)


_FIELDS = (
    _Field("minute", 0, 59),
    _Field("hour", 0, 23),
    _Field("day of month", 1, 31),
    _Field("month", 1, 12, _MONTHS),
    _Field("day of week", 0, 7, _WEEKDAYS),
)


@attrs.frozen(kw_only=True)
class CronSchedule:
    """A cron expression read in one time zone. Build it with ``CronSchedule.parse``.

    Days of the week count from Sunday = 0. As in Vixie cron and cronie, a day field
    that begins with ``*`` is unrestricted; when both day fields are restricted a day
    matches if either does, otherwise it must match both.
    """

    expression: str
    zone: ZoneInfo
    minutes: frozenset[int]
    hours: frozenset[int]
    days_of_month: frozenset[int]
    months: frozenset[int]
    days_of_week: frozenset[int]
    days_of_month_restricted: bool
    days_of_week_restricted: bool

    @classmethod
    def parse(cls, expression: str, timezone: str) -> CronSchedule:
        """Return the schedule ``expression`` describes, in the IANA zone ``timezone``.

        Raises:
            ScheduleError: the expression is not five valid fields, names a date that
                never occurs (such as ``0 0 30 2 *``), or the time zone is unknown.
        """
        fields = expression.split()
        try:
            if len(fields) != len(_FIELDS):
                raise _InvalidField(
                    "expected 5 fields (minute hour day-of-month month day-of-week), "
                    f"found {len(fields)}"
                )
            minutes, hours, doms, months, dows = (
                spec.parse(text) for spec, text in zip(_FIELDS, fields, strict=True)
            )
            dom_restricted = not fields[2].startswith("*")
            dow_restricted = not fields[4].startswith("*")
            if dom_restricted and not dow_restricted:
                _check_some_date_occurs(doms, months)
        except _InvalidField as error:
            raise ScheduleError(f"invalid BACKUP_SCHEDULE {expression!r}: {error}") from None
        return cls(
            expression=" ".join(fields),
            zone=_zone(timezone),
            minutes=minutes,
            hours=hours,
            days_of_month=doms,
            months=months,
            days_of_week=frozenset(day % 7 for day in dows),
            days_of_month_restricted=dom_restricted,
            days_of_week_restricted=dow_restricted,
        )

    def next_after(self, instant: datetime) -> datetime:
        """Return the first run strictly after ``instant``, as an aware UTC datetime.

        Wall times are read in the schedule's zone as Python does with ``fold=0``: a
        time skipped by a spring-forward gap runs once, later by the gap's length
        (Berlin 02:30 on the switch day runs at 03:30 CEST); a time repeated by a
        fall-back runs once, at its first occurrence. Successive calls therefore
        yield each scheduled wall time of each day exactly once (a shifted time that
        lands on another scheduled time shares that run).

        Raises:
            ValueError: ``instant`` is naive.
            ScheduleError: no run within nine years (parse() rules this out).
        """
        if instant.utcoffset() is None:
            raise ValueError(f"next_after needs an aware datetime, got {instant!r}")
        after = instant.astimezone(UTC)
        # A run from the day before can land after ``instant`` when shifted by a gap.
        day = after.astimezone(self.zone).date() - _ONE_DAY
        last_day = day + timedelta(days=_SEARCH_DAYS)
        runs: list[datetime] = []
        while day <= last_day:
            later = [run for run in self._runs_on(day) if run > after]
            if later and not runs:
                last_day = day + timedelta(days=_LOOKAHEAD_DAYS)
            runs += later
            day += _ONE_DAY
        if not runs:
            raise ScheduleError(f"BACKUP_SCHEDULE '{self}' has no run within nine years")
        # Gap shifting breaks wall order, so the earliest run need not be the first found.
        return min(runs)

    def _runs_on(self, day: date) -> list[datetime]:
        if not self._matches(day):
            return []
        return [
            datetime(day.year, day.month, day.day, hour, minute, tzinfo=self.zone).astimezone(UTC)
            for hour in self.hours
            for minute in self.minutes
        ]

    def _matches(self, day: date) -> bool:
        if day.month not in self.months:
            return False
        dom = day.day in self.days_of_month
        dow = day.isoweekday() % 7 in self.days_of_week
        if self.days_of_month_restricted and self.days_of_week_restricted:
            return dom or dow
        return dom and dow

    def __str__(self) -> str:
        """Return the expression and its zone, such as ``0 3 * * * (Europe/Berlin)``."""
        return f"{self.expression} ({self.zone.key})"


def _check_some_date_occurs(days_of_month: frozenset[int], months: frozenset[int]) -> None:
    if not any(day <= _LONGEST_MONTH[month - 1] for day in days_of_month for month in months):
        days = ",".join(str(day) for day in sorted(days_of_month))
        names = ",".join(_MONTHS[month - 1] for month in sorted(months))
        raise _InvalidField(f"day of month {days} never occurs in {names}, so it would never run")


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ScheduleError(
            f"unknown time zone {name!r} (TZ): use an IANA name such as 'Europe/Berlin' or 'UTC'"
        ) from None
