"""Is every database backed up recently enough? The pure rules of ``health`` and ``status``."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta

import attrs

from pg_backup_manager.domain.history import BACKUP_OPERATIONS, Outcome, RunRecord
from pg_backup_manager.domain.model import Database
from pg_backup_manager.domain.names import Backup, Tier
from pg_backup_manager.domain.offsite_status import OffsiteStatus, offsite_status
from pg_backup_manager.domain.ports import Schedule

_GAP_SAMPLES = 1000


@attrs.frozen(kw_only=True)
class DatabaseStatus:
    """What an operator wants to know about one database's backups, at ``now``."""

    database: Database
    now: datetime
    newest: Backup | None
    last_success: RunRecord | None
    last_failure: RunRecord | None
    consecutive_failures: int
    backups_by_tier: dict[Tier, int]
    total_bytes: int
    next_run_at: datetime | None
    max_age: timedelta
    grace_until: datetime | None  # no backup yet is healthy until then
    offsite: OffsiteStatus | None = None  # None: no off-site store is configured
    history_unreadable_lines: int = 0  # lines of the history left out of it

    @property
    def newest_age(self) -> timedelta | None:
        """Return the age of the newest backup, or None without one."""
        return None if self.newest is None else self.now - self.newest.name.taken_at

    @property
    def healthy(self) -> bool:
        """Return whether the newest backup is young enough (or it is too early to tell)."""
        age = self.newest_age
        if age is None:
            return self.grace_until is not None and self.now < self.grace_until
        return age <= self.max_age


def database_status(
    *,
    database: Database,
    backups: Sequence[Backup],
    history: Sequence[RunRecord],
    now: datetime,
    max_age: timedelta,
    next_run_at: datetime | None,
    started_at: datetime | None,
    offsite: bool = False,
    history_unreadable_lines: int = 0,
) -> DatabaseStatus:
    """Return the status of ``database`` from its backups (newest first) and its history
    (oldest first). Only dumps and scheduled runs count as runs; a scheduler that
    started less than ``max_age`` ago gives a database without backups a grace period.
    With ``offsite`` (an off-site store is configured), it says what is not off-site.
    ``history_unreadable_lines`` is how many lines of the history could not be read.
    """
    runs = [record for record in history if record.operation in BACKUP_OPERATIONS]
    successes = [r for r in runs if r.outcome is Outcome.SUCCESS]
    failures = [r for r in runs if r.outcome is Outcome.FAILURE]
    trailing = 0
    for record in reversed(runs):
        if record.outcome is not Outcome.FAILURE:
            break
        trailing += 1
    tiers = Counter(backup.name.tier for backup in backups)
    return DatabaseStatus(
        database=database,
        now=now,
        newest=backups[0] if backups else None,
        last_success=successes[-1] if successes else None,
        last_failure=failures[-1] if failures else None,
        consecutive_failures=trailing,
        backups_by_tier={tier: tiers.get(tier, 0) for tier in Tier},
        total_bytes=sum(backup.size for backup in backups),
        next_run_at=next_run_at,
        max_age=max_age,
        grace_until=None if started_at is None else started_at + max_age,
        offsite=offsite_status(backups, history) if offsite else None,
        history_unreadable_lines=history_unreadable_lines,
    )


def default_max_age(schedule: Schedule, *, now: datetime) -> timedelta:
    """Return twice the longest gap between consecutive runs of ``schedule`` after ``now``.

    Looked at over the next year, or the next thousand runs when they are denser,
    in wall-clock time (a daylight-saving change does not widen a gap): 12 hours
    for the default schedule (every 6 hours).
    """
    runs = [schedule.next_after(now)]
    horizon = now + timedelta(days=366)
    while len(runs) < _GAP_SAMPLES and runs[-1] < horizon:
        runs.append(schedule.next_after(runs[-1]))
    walls = [schedule.local(run).replace(tzinfo=None) for run in runs]
    gaps = [later - earlier for earlier, later in itertools.pairwise(walls)]
    return 2 * max(gaps, default=runs[0] - now)
