"""Pure rules: which tier a run gets, and which backups retention keeps."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import attrs

from pg_backup_manager.domain.names import BackupName, Tier

KEPT_FOR: dict[Tier, timedelta] = {
    Tier.DAILY: timedelta(days=7),
    Tier.WEEKLY: timedelta(days=30),
    Tier.MONTHLY: timedelta(days=365),
}

_SATURDAY = 5


def tier_of_day(local_day: date) -> Tier:
    """Return the tier of a run on ``local_day`` (the run's date in ``TZ``).

    Monthly on the 1st, weekly on Saturdays, daily otherwise; the 1st wins
    when it is a Saturday.
    """
    if local_day.day == 1:
        return Tier.MONTHLY
    if local_day.weekday() == _SATURDAY:
        return Tier.WEEKLY
    return Tier.DAILY


def tier_of_run(at: datetime, *, timezone: str) -> Tier:
    """Return the tier of a run at ``at``, judged on its local date in ``timezone``."""
    return tier_of_day(at.astimezone(ZoneInfo(timezone)).date())


def dated_in_the_future(
    name: BackupName, *, now: datetime, allowance: timedelta = timedelta(0)
) -> bool:
    """Return whether backup ``name`` is stamped more than ``allowance`` after ``now``.

    Such a backup was not made by a clock that agrees with ``now`` (the clock went
    backwards, or the file was named by hand): retention keeps it without counting it
    among the newest, and freshness ignores it, so it can neither push a real backup
    out nor stand in for one.
    """
    return name.taken_at - now > allowance


class Why(enum.Enum):
    """Why retention keeps or deletes a backup."""

    FUTURE = "dated in the future"  # kept: the clock went backwards
    NEWEST = "among the newest"  # kept: MIN_BACKUPS_KEPT
    WITHIN_PERIOD = "within its period"  # kept: younger than its tier's period
    PAST_PERIOD = "past its period"  # deleted


@attrs.frozen(kw_only=True)
class Verdict:
    """What retention decided for one backup, and why."""

    name: BackupName
    keep: bool
    why: Why
    age: timedelta

    @property
    def period(self) -> timedelta:
        """Return how long a backup of this tier is kept."""
        return KEPT_FOR[self.name.tier]


@attrs.frozen(kw_only=True)
class RetentionPlan:
    """The verdicts on every backup of one database, newest first."""

    verdicts: tuple[Verdict, ...]

    @property
    def to_delete(self) -> tuple[BackupName, ...]:
        """Return the backups this plan deletes."""
        return tuple(v.name for v in self.verdicts if not v.keep)

    @property
    def to_keep(self) -> tuple[BackupName, ...]:
        """Return the backups this plan keeps."""
        return tuple(v.name for v in self.verdicts if v.keep)


def plan_retention(
    names: Iterable[BackupName], *, now: datetime, min_kept: int = 1
) -> RetentionPlan:
    """Return which of ``names`` to keep and delete at ``now``.

    Age is judged from the timestamp in each name, never from file times. A
    backup is kept while its age is at most its tier's period (7, 30 or 365
    days). Whatever their age, the ``min_kept`` newest backups (at least one)
    are kept, so a database never loses its last backup. Backups stamped after
    ``now`` (the clock went backwards) are always kept, and do not count among
    the newest: a wrong clock cannot push a real backup out.
    """
    # Unique by spelling, ordered by time then tier (the spelling's order within a
    # second): both without hashing or comparing enums, 10,000 names in a blink.
    unique = {str(name): name for name in names}
    ordered = sorted(unique.values(), key=lambda name: (name.taken_at, str(name)), reverse=True)
    verdicts = []
    newest_left = max(min_kept, 1)
    for name in ordered:
        age = now - name.taken_at
        if dated_in_the_future(name, now=now):
            keep, why = True, Why.FUTURE
        elif newest_left > 0:
            newest_left -= 1
            keep, why = True, Why.NEWEST
        elif age <= KEPT_FOR[name.tier]:
            keep, why = True, Why.WITHIN_PERIOD
        else:
            keep, why = False, Why.PAST_PERIOD
        verdicts.append(Verdict(name=name, keep=keep, why=why, age=age))
    return RetentionPlan(verdicts=tuple(verdicts))
