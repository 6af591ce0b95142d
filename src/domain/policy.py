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
    ordered = sorted(set(names), reverse=True)
    verdicts = []
    newest_left = max(min_kept, 1)
    for name in ordered:
        age = now - name.taken_at
        if age < timedelta(0):
            verdicts.append(_verdict(name, True, "dated in the future: is the clock wrong?"))
        elif newest_left > 0:
            newest_left -= 1
            verdicts.append(
                _verdict(name, True, f"{_days(age)} old, among the newest: always kept")
            )
        elif age <= KEPT_FOR[name.tier]:
            verdicts.append(
                _verdict(name, True, f"{_days(age)} old, kept {KEPT_FOR[name.tier].days} days")
            )
        else:
            verdicts.append(
                _verdict(name, False, f"{_days(age)} old, past {KEPT_FOR[name.tier].days} days")
            )
    return RetentionPlan(verdicts=tuple(verdicts))


def _verdict(name: BackupName, keep: bool, why: str) -> Verdict:
    return Verdict(name=name, keep=keep, reason=f"{name.tier.value}, {why}")


def _days(age: timedelta) -> str:
    if age < timedelta(days=1):
        return f"{age.total_seconds() / 3600:.0f} h"
    return f"{age.total_seconds() / 86400:.1f} days"
