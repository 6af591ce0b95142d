"""Pure rules: which tier a run gets, and which backups retention keeps."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

import attrs

from pg_backup_manager.domain.model import BackupName, Tier

KEPT_FOR: dict[Tier, timedelta] = {
    Tier.DAILY: timedelta(days=7),
    Tier.WEEKLY: timedelta(days=30),
    Tier.MONTHLY: timedelta(days=365),
}

_SATURDAY = 5


def tier_for(local_day: date) -> Tier:
    """Return the tier of a run on ``local_day`` (the run's date in ``TZ``).

    Monthly on the 1st, weekly on Saturdays, daily otherwise; the 1st wins
    when it is a Saturday.
    """
    if local_day.day == 1:
        return Tier.MONTHLY
    if local_day.weekday() == _SATURDAY:
        return Tier.WEEKLY
    return Tier.DAILY


@attrs.frozen(kw_only=True)
class Verdict:
    """What retention decided for one backup, and why, in words for the operator."""

    name: BackupName
    keep: bool
    reason: str


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


def plan_retention(names: Iterable[BackupName], *, now: datetime) -> RetentionPlan:
    """Return which of ``names`` to keep and delete at ``now``.

    Age is judged from the timestamp in each name, never from file times. A
    backup is kept while its age is at most its tier's period (7, 30 or 365
    days). The newest backup is always kept, whatever its age, so a database
    never loses its last backup; backups stamped after ``now`` (the clock went
    backwards) are always kept too.
    """
    ordered = sorted(set(names), reverse=True)
    return RetentionPlan(
        verdicts=tuple(
            _judge(name, now=now, newest=index == 0) for index, name in enumerate(ordered)
        )
    )


def _judge(name: BackupName, *, now: datetime, newest: bool) -> Verdict:
    age = now - name.taken_at
    period = KEPT_FOR[name.tier]
    tier = name.tier.value
    if age < timedelta(0):
        return Verdict(name=name, keep=True, reason=f"{tier}, dated in the future: clock skew?")
    if newest:
        return Verdict(name=name, keep=True, reason=f"{tier}, newest backup: always kept")
    if age <= period:
        return Verdict(
            name=name, keep=True, reason=f"{tier}, {_days(age)} old, kept {period.days} days"
        )
    return Verdict(
        name=name, keep=False, reason=f"{tier}, {_days(age)} old, past {period.days} days"
    )


def _days(age: timedelta) -> str:
    if age < timedelta(days=1):
        return f"{age.total_seconds() / 3600:.0f} h"
    return f"{age.total_seconds() / 86400:.1f} days"
