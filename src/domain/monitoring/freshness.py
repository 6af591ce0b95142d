"""Is every database backed up recently enough? The pure rules of ``health`` and ``status``."""

from __future__ import annotations

import enum
import itertools
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import TYPE_CHECKING

import attrs

from pg_backup_manager.domain.backups.policy import dated_in_the_future
from pg_backup_manager.domain.backups.timetable import Schedules
from pg_backup_manager.domain.database_names import split
from pg_backup_manager.domain.history import BACKUP_OPERATIONS, Outcome, RunRecord
from pg_backup_manager.domain.model import Database
from pg_backup_manager.domain.names import Backup, BackupName, Tier
from pg_backup_manager.domain.offsite.status import OffsiteStatus, offsite_status
from pg_backup_manager.domain.ports import Schedule

if TYPE_CHECKING:  # its rules read the default of this module's
    from pg_backup_manager.domain.monitoring.pitr_status import PitrStatus
    from pg_backup_manager.domain.verification.status import VerifyStatus

_GAP_SAMPLES = 1000

# How far ahead of the clock a backup may be stamped and still count as fresh: a
# clock corrected backwards by NTP, or a host and its container a little apart.
# Five minutes is far more than a synchronised clock is ever off, and far less than
# any BACKUP_MAX_AGE worth setting: a backup dated further ahead is ignored.
CLOCK_SKEW = timedelta(minutes=5)


@attrs.frozen(kw_only=True)
class DatabaseStatus:
    """What an operator wants to know about one database's backups, at ``now``.

    ``newest`` is the newest backup not dated in the future (beyond ``CLOCK_SKEW``);
    those that are, ``future``, are still counted and sized among the backups kept,
    but never judged fresh.
    """

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
    future: tuple[BackupName, ...] = ()  # dated in the future, ignored: newest first
    history_unreadable_lines: int = 0  # lines of the history left out of it
    # Backup runs ever ended, per outcome (read for the metrics alone; empty otherwise).
    runs_total: dict[Outcome, int] = attrs.field(factory=dict)
    # Its WAL archiving, with <SERVICE>_WAL_ARCHIVE=true (None: off).
    pitr: PitrStatus | None = None
    # A database of a server: whether its last listing had it (None: no such database, or
    # never listed); one that was not (dropped, excluded) is not judged for freshness,
    # nor a service with every database beside its databases (``judged`` false).
    on_server: bool | None = None
    judged: bool = True
    # Its scheduled verifications, with VERIFY_SCHEDULE set (None: off).
    verification: VerifyStatus | None = None

    @property
    def newest_age(self) -> timedelta | None:
        """Return the age of the newest backup (0 for one within the clock skew ahead),
        or None without one."""
        if self.newest is None:
            return None
        return max(self.now - self.newest.name.taken_at, timedelta(0))

    @property
    def healthy(self) -> bool:
        """Return whether the newest backup is fresh and, with WAL archiving on, nothing
        of it is at fault, and with VERIFY_SCHEDULE, no last verification failed."""
        verified = self.verification is None or self.verification.healthy
        return self.fresh and (self.pitr is None or self.pitr.healthy) and verified

    @property
    def fresh(self) -> bool:
        """Return whether the newest backup is young enough (or it is too early to tell, or
        it is not judged: see ``judged``)."""
        if not self.judged:
            return True
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
    A backup dated more than ``CLOCK_SKEW`` after ``now`` is not the newest (the rule
    retention follows, :func:`dated_in_the_future`): it is listed in ``future``. With
    ``offsite`` (an off-site store is configured), it says what is not off-site; the
    backups must then carry their recorded SHA-256.
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
    future = tuple(
        backup.name
        for backup in backups
        if dated_in_the_future(backup.name, now=now, allowance=CLOCK_SKEW)
    )
    newest = next((backup for backup in backups if backup.name not in future), None)
    return DatabaseStatus(
        database=database,
        now=now,
        newest=newest,
        last_success=successes[-1] if successes else None,
        last_failure=failures[-1] if failures else None,
        consecutive_failures=trailing,
        backups_by_tier={tier: tiers.get(tier, 0) for tier in Tier},
        total_bytes=sum(backup.size for backup in backups),
        next_run_at=next_run_at,
        max_age=max_age,
        grace_until=None if started_at is None else started_at + max_age,
        offsite=offsite_status(backups, history, newest=newest) if offsite else None,
        future=future,
        history_unreadable_lines=history_unreadable_lines,
    )


def _frozen(found: Mapping[str, timedelta]) -> Mapping[str, timedelta]:
    return MappingProxyType(dict(found))


class MaxAgeFrom(enum.Enum):
    """Where the max age of a service comes from."""

    OWN = "own"  # <SERVICE>_BACKUP_MAX_AGE
    COMMON = "common"  # BACKUP_MAX_AGE
    SCHEDULE = "schedule"  # twice the longest gap of the service's own schedule


@attrs.frozen(kw_only=True)
class MaxAges:
    """How old the newest backup of each service may be: its ``own`` max age
    (``<SERVICE>_BACKUP_MAX_AGE``), else the ``common`` one (``BACKUP_MAX_AGE``), else
    twice the longest gap of the service's own schedule (:func:`default_max_age`)."""

    common: timedelta | None = None
    own: Mapping[str, timedelta] = attrs.field(factory=dict, converter=_frozen)

    def source(self, identifier: str) -> MaxAgeFrom:
        """Return where the max age of the service ``identifier`` (or of its service, for
        ``<service>/<database>``) comes from."""
        if split(identifier)[0] in self.own:
            return MaxAgeFrom.OWN
        return MaxAgeFrom.SCHEDULE if self.common is None else MaxAgeFrom.COMMON

    def of_each(
        self, identifiers: Iterable[str], schedules: Schedules, *, now: datetime
    ) -> dict[str, timedelta]:
        """Return the max age of each service of ``identifiers`` at ``now``, each with its
        schedule of ``schedules`` (the gaps of each schedule worked out once)."""
        gaps: dict[Schedule, timedelta] = {}
        ages: dict[str, timedelta] = {}
        for identifier in identifiers:
            age = self.own.get(split(identifier)[0], self.common)  # as :meth:`source` says
            if age is None:
                schedule = schedules.of(identifier)
                if schedule not in gaps:
                    gaps[schedule] = default_max_age(schedule, now=now)
                age = gaps[schedule]
            ages[identifier] = age
        return ages


def default_max_age(schedule: Schedule, *, now: datetime) -> timedelta:
    """Return twice the longest gap between consecutive runs of ``schedule`` after ``now``.

    Looked at over the next year, or the next thousand runs when they are denser,
    and at least the next two runs (four years apart for a leap day's), in wall-clock
    time (a daylight-saving change does not widen a gap): 12 hours for the default
    schedule (every 6 hours). The wait until the first run is no gap: the default
    stays the same from one second to the next.
    """
    runs = [schedule.next_after(now)]
    horizon = now + timedelta(days=366)
    while len(runs) < 2 or (len(runs) < _GAP_SAMPLES and runs[-1] < horizon):
        runs.append(schedule.next_after(runs[-1]))
    walls = [schedule.local(run).replace(tzinfo=None) for run in runs]
    return 2 * max(later - earlier for earlier, later in itertools.pairwise(walls))
