"""``status`` and ``health``: what the backups of each database look like now."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import attrs

from pg_backup_manager.domain.errors import ControllerError
from pg_backup_manager.domain.model import Database
from pg_backup_manager.domain.monitoring.freshness import (
    DatabaseStatus,
    database_status,
    default_max_age,
)
from pg_backup_manager.domain.monitoring.health import Liveness
from pg_backup_manager.domain.monitoring.ports import Heartbeat
from pg_backup_manager.domain.names import Backup, BackupName
from pg_backup_manager.domain.ports import BackupCatalog, Clock, RunLog, Schedule


@attrs.frozen(kw_only=True)
class Status:
    """Reads the backups and the run history of databases into their status.

    ``max_age`` is ``BACKUP_MAX_AGE``; None means twice the longest gap of the
    schedule. Outside production nothing is scheduled: there is no next run
    and no grace period. With ``offsite`` (``OFFSITE_URL`` is set) each status
    says which backups are not off-site, from the history and each backup's
    checksum file alone: the store is never asked.
    """

    catalog: BackupCatalog
    run_log: RunLog
    clock: Clock
    schedule: Schedule
    heartbeat: Heartbeat
    production: bool
    max_age: timedelta | None = None
    offsite: bool = False

    def __call__(self, databases: Sequence[Database]) -> list[DatabaseStatus]:
        """Return the status of each of ``databases``, in order."""
        now = self.clock.now()
        max_age = self.max_age or default_max_age(self.schedule, now=now)
        next_run = self.schedule.next_after(now) if self.production else None
        started = self.heartbeat.started_at() if self.production else None
        return [
            database_status(
                database=database,
                backups=self._backups(database.identifier),
                history=self.run_log.records(database.identifier),
                now=now,
                max_age=max_age,
                next_run_at=next_run,
                started_at=started,
                offsite=self.offsite,
                history_unreadable_lines=self.run_log.unreadable_lines(database.identifier),
            )
            for database in databases
        ]

    def _backups(self, identifier: str) -> list[Backup]:
        """Return the backups of ``identifier``, newest first; with ``offsite``, each with
        the SHA-256 its checksum file records (None when it has none or cannot be read:
        then no sync can have confirmed it)."""
        backups = self.catalog.backups(identifier)
        if not self.offsite:
            return backups
        return [attrs.evolve(b, sha256=self._checksum(identifier, b.name)) for b in backups]

    def _checksum(self, identifier: str, name: BackupName) -> str | None:
        try:
            return self.catalog.archive(identifier, name).checksum
        except ControllerError:  # gone since listed, unreadable or malformed
            return None


@attrs.frozen(kw_only=True)
class HealthReport:
    """Whether the scheduler lives (``liveness`` None: no heartbeat, see ``problem``) and
    whether every database has a fresh backup."""

    production: bool
    liveness: Liveness | None
    problem: str | None
    databases: tuple[DatabaseStatus, ...] = ()

    @property
    def alive(self) -> bool:
        """Return whether the scheduler's heartbeat is fresh and the scheduler on time."""
        return self.liveness is not None and self.liveness.alive

    @property
    def faults(self) -> tuple[DatabaseStatus, ...]:
        """Return the databases whose backups are not fresh."""
        return tuple(status for status in self.databases if not status.healthy)

    @property
    def healthy(self) -> bool:
        """Return whether the scheduler lives, in production, with fresh backups everywhere."""
        return self.production and self.alive and not self.faults


@attrs.frozen(kw_only=True)
class CheckHealth:
    """``health``: the scheduler alive and on time (see :class:`Liveness`) and, unless only
    liveness is asked, fresh backups."""

    status: Status
    heartbeat: Heartbeat

    def __call__(
        self, databases: Sequence[Database], *, max_heartbeat_age: float, liveness_only: bool
    ) -> HealthReport:
        """Return the health of the scheduler and of ``databases``."""
        try:
            liveness = Liveness(
                age=self.heartbeat.age(),
                max_age=max_heartbeat_age,
                state=self.heartbeat.state(),
                now=self.status.clock.now(),
            )
            problem = None
        except ControllerError as error:
            liveness, problem = None, str(error)
        statuses = () if liveness_only else tuple(self.status(databases))
        return HealthReport(
            production=self.status.production,
            liveness=liveness,
            problem=problem,
            databases=statuses,
        )
