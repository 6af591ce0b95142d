"""``status`` and ``health``: what the backups of each database look like now (the
verdict of ``health`` in :mod:`.health`)."""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from pg_backup_manager.domain.backups.listing import recorded_checksum
from pg_backup_manager.domain.backups.timetable import Schedules
from pg_backup_manager.domain.errors import ControllerError
from pg_backup_manager.domain.every_database import (
    ServerListings,
    StoredDatabases,
    known,
    on_server,
)
from pg_backup_manager.domain.history import RunRecord
from pg_backup_manager.domain.model import Database
from pg_backup_manager.domain.monitoring.freshness import (
    DatabaseStatus,
    MaxAges,
    database_status,
)
from pg_backup_manager.domain.monitoring.health import HealthReport, Liveness
from pg_backup_manager.domain.monitoring.pitr_status import ReadPitrStatus
from pg_backup_manager.domain.monitoring.ports import HeartbeatReader
from pg_backup_manager.domain.names import Backup
from pg_backup_manager.domain.offsite.status import judged_offsite
from pg_backup_manager.domain.ports import BackupReader, Clock, RunHistory
from pg_backup_manager.domain.verification.model import VerifySchedule
from pg_backup_manager.domain.verification.status import verify_status


@attrs.frozen(kw_only=True)
class Status:
    """Reads the backups and the run history of databases into their status.

    Each database's next run follows its service's schedule (``schedules``), and
    ``max_ages`` says how old its newest backup may be (by default twice the
    longest gap of that schedule). Outside production nothing is scheduled: there
    is no next run and no grace period. With ``offsite`` (``OFFSITE_URL`` is set) each status
    says which backups are not off-site, from the history and the checksum file of each
    backup a sync confirmed by name (no other can be off-site): the store is never
    asked. The newest backup of each
    status carries the SHA-256 its checksum file records (None without one). With
    ``verification`` (``VERIFY_SCHEDULE``) each says how its scheduled verifications went.
    """

    catalog: BackupReader
    history: RunHistory
    clock: Clock
    schedules: Schedules
    heartbeat: HeartbeatReader
    production: bool
    max_ages: MaxAges = attrs.field(factory=MaxAges)
    offsite: bool = False
    pitr: ReadPitrStatus | None = None
    # Services with every database of their server: their databases, and the last listing.
    stored: StoredDatabases | None = None
    listings: ServerListings | None = None
    verification: VerifySchedule | None = None  # VERIFY_SCHEDULE: its verifications judged

    def __call__(
        self, databases: Sequence[Database], *, runs_total: bool = False
    ) -> list[DatabaseStatus]:
        """Return the status of each of ``databases``, in order (a service with every
        database of its server: of each database this host knows of it, see
        :func:`.known`); with ``runs_total``, each with how many backup runs ever ended
        each way (the metrics count them)."""
        now = self.clock.now()
        rows = self._rows(databases)
        max_ages = self.max_ages.of_each(
            [database.identifier for database, _, _ in rows], self.schedules, now=now
        )
        started = self.heartbeat.started_at() if self.production else None
        # The receivers run whatever MODE says: when they started is asked in any mode.
        archived = self.pitr is not None and any(d.wal_archive for d in databases)
        receivers_started = self.heartbeat.started_at() if archived else None
        statuses = []
        for database, listed, judged in rows:
            identifier = database.identifier
            records = self.history.records(identifier)
            status = database_status(
                database=database,
                backups=self._backups(identifier, records),
                history=records,
                now=now,
                max_age=max_ages[identifier],
                next_run_at=(
                    self.schedules.of(identifier).next_after(now) if self.production else None
                ),
                started_at=started,
                offsite=self.offsite,
                history_unreadable_lines=self.history.unreadable_lines(identifier),
            )
            status = attrs.evolve(status, on_server=listed, judged=judged)
            newest = status.newest
            if newest is not None and newest.sha256 is None:
                newest = attrs.evolve(
                    newest, sha256=recorded_checksum(self.catalog, identifier, newest.name)
                )
                status = attrs.evolve(status, newest=newest)
            if runs_total:
                status = attrs.evolve(status, runs_total=self.history.totals(identifier))
            if self.pitr is not None and database.wal_archive:
                found = self.pitr(database, now=now, started_at=receivers_started)
                status = attrs.evolve(status, pitr=found)
            if self.verification is not None:
                verified = verify_status(records, now=now, asked=self.verification)
                status = attrs.evolve(status, verification=verified)
            statuses.append(status)
        return statuses

    def _rows(self, databases: Sequence[Database]) -> list[tuple[Database, bool | None, bool]]:
        """Return each database to show, whether its server had it at its last listing,
        and whether its freshness is judged: not for one its server no longer has, nor
        for a service with every database shown beside its databases (for its own old
        backups, or its WAL archiving)."""
        rows: list[tuple[Database, bool | None, bool]] = []
        for database in databases:
            if self.stored is None or self.listings is None:
                rows.append((database, None, True))
                continue
            found = [database]
            if database.every_database:
                found = known(
                    database, stored=self.stored, listings=self.listings, catalog=self.catalog
                )
                if database.wal_archive and found[0].identifier != database.identifier:
                    found.insert(0, database)
            last = self.listings.last(database.service)
            for one in found:
                seen = on_server(one, last)
                alone = len(found) == 1
                rows.append((one, seen, seen is not False and (alone or not one.every_database)))
        return rows

    def reading(self, history: RunHistory) -> Status:
        """Return this status reading ``history`` instead (one question's, read once)."""
        return attrs.evolve(self, history=history)

    def _backups(self, identifier: str, records: Sequence[RunRecord]) -> list[Backup]:
        """Return the backups of ``identifier``, newest first; with ``offsite``, each that a
        sync of ``records`` confirmed by name with the SHA-256 its checksum file records (None
        without one). The others are missing whatever it says: it is not read."""
        backups = self.catalog.backups(identifier)
        if not self.offsite:
            return backups
        judged = judged_offsite(records)
        return [
            attrs.evolve(b, sha256=recorded_checksum(self.catalog, identifier, b.name))
            if judged.get(str(b.name)) is not None
            else b
            for b in backups
        ]


@attrs.frozen(kw_only=True)
class CheckHealth:
    """``health``: the scheduler alive and on time (see :class:`Liveness`) and, unless only
    liveness is asked, fresh backups."""

    status: Status
    heartbeat: HeartbeatReader

    def reading(self, history: RunHistory) -> CheckHealth:
        """Return this check reading ``history`` instead (one question's, read once)."""
        return attrs.evolve(self, status=self.status.reading(history))

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
            liveness_only=liveness_only,
        )
