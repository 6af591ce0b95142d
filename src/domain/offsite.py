"""Off-site copies: what is missing from the object store, and ``sync``, which uploads it.

The store holds each database's backups under its own key prefix; a backup
counts as off-site only once the store reports it with the local size and
SHA-256 (see :class:`OffsiteStore`): a key of the right name is not enough.
Uploading never touches the local backup: a failed upload leaves it in place
for the next run.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import attrs

from pg_backup_manager.domain.errors import ControllerError, worst_exit_code
from pg_backup_manager.domain.history import Operation
from pg_backup_manager.domain.model import Database
from pg_backup_manager.domain.names import Backup, BackupName, OffsiteCopy, StoredArchive
from pg_backup_manager.domain.ports import BackupCatalog, Clock, Locks, OffsiteStore, RunLog
from pg_backup_manager.domain.recording import recorded


@attrs.frozen(kw_only=True)
class SyncPlan:
    """What ``sync`` does with the local backups of a database, oldest first (the order to
    upload: the oldest is the one retention may soon delete locally)."""

    listed: tuple[Backup, ...]  # the store lists them: off-site once it confirms them
    missing: tuple[Backup, ...]  # to upload


def plan_sync(local: Iterable[Backup], listed: Iterable[BackupName]) -> SyncPlan:
    """Return which of the ``local`` backups the store lists by name and which it lacks."""
    present = set(listed)
    ordered = sorted(local, key=_age_order)
    return SyncPlan(
        listed=tuple(backup for backup in ordered if backup.name in present),
        missing=tuple(backup for backup in ordered if backup.name not in present),
    )


@attrs.frozen(kw_only=True)
class SyncResult:
    """What ``sync`` did for one database: the copies it made, how many were there
    already, and the error that stopped it (the backups it names stay local)."""

    database: Database
    uploaded: tuple[OffsiteCopy, ...] = ()
    already_offsite: int = 0
    missing: tuple[BackupName, ...] = ()
    error: ControllerError | None = None


@attrs.frozen(kw_only=True)
class SyncReport:
    """The results of one ``sync``, in the order asked."""

    results: tuple[SyncResult, ...]

    @property
    def exit_code(self) -> int:
        """Return the exit code: 0, or that of the worst failure."""
        return worst_exit_code(result.error for result in self.results)


@attrs.frozen(kw_only=True)
class Sync:
    """Uploads every local backup that is missing off-site, oldest first, under each
    database's lock (so that retention cannot delete a backup being uploaded)."""

    catalog: BackupCatalog
    offsite: OffsiteStore
    locks: Locks
    clock: Clock
    run_log: RunLog

    def __call__(self, databases: Sequence[Database]) -> SyncReport:
        """Upload what is missing off-site of each of ``databases``; return what happened.

        A failure (a busy lock too) is reported in the database's result, not
        raised: it stops that database's uploads, and the others go on. The
        backups not uploaded are listed in ``missing``.
        """
        return SyncReport(results=tuple(self.one(database) for database in databases))

    def one(self, database: Database) -> SyncResult:
        """Upload what is missing off-site of ``database``; see :meth:`__call__`."""
        identifier = database.identifier
        uploaded: list[OffsiteCopy] = []
        local: list[Backup] | None = None  # None: not read (the lock was busy)
        confirmed: set[BackupName] = set()
        proven: dict[BackupName, str | None] = {}  # off-site with this SHA-256: the record's
        with recorded(
            run_log=self.run_log, clock=self.clock, identifier=identifier, operation=Operation.SYNC
        ) as recording:
            try:
                with self.locks.hold(identifier):
                    local = self.catalog.backups(identifier)
                    plan = plan_sync(local, (copy.name for copy in self.offsite.copies(identifier)))
                    missing = list(plan.missing)
                    for backup in plan.listed:  # a listed key counts once its content does
                        archive = self._archive(identifier, backup)
                        if self.offsite.holds(identifier, backup.name, archive):
                            confirmed.add(backup.name)
                            proven[backup.name] = archive.checksum
                        else:
                            missing.append(backup)
                    for backup in sorted(missing, key=_age_order):
                        uploaded.append(copy := self._upload(identifier, backup))
                        proven[copy.name] = copy.sha256
            except ControllerError as error:
                recording.failed(error)
                done = confirmed | {copy.name for copy in uploaded}
                left = tuple(
                    backup.name
                    for backup in sorted(local or (), key=_age_order)
                    if backup.name not in done
                )
                if local is not None:  # what the history tells ``status`` is (not) off-site
                    recording.not_offsite = tuple(map(str, left))
                    recording.confirmed_offsite = _pairs(proven)
                return SyncResult(
                    database=database,
                    uploaded=tuple(uploaded),
                    already_offsite=len(confirmed),
                    missing=left,
                    error=error,
                )
            recording.not_offsite = ()
            recording.confirmed_offsite = _pairs(proven)
        return SyncResult(
            database=database, uploaded=tuple(uploaded), already_offsite=len(confirmed)
        )

    def _archive(self, identifier: str, backup: Backup) -> StoredArchive:
        archive = self.catalog.archive(identifier, backup.name)
        if archive.checksum is None:
            raise ControllerError(
                f"{backup.name} has no checksum file (made before checksums were kept): "
                "nothing could prove its off-site copy; delete it or keep it local only"
            )
        return archive

    def _upload(self, identifier: str, backup: Backup) -> OffsiteCopy:
        archive = self._archive(identifier, backup)
        globals_file = self.catalog.globals(identifier, backup.name) if backup.has_globals else None
        return self.offsite.upload(identifier, backup.name, archive=archive, globals=globals_file)


def _pairs(proven: dict[BackupName, str | None]) -> tuple[tuple[str, str], ...]:
    """Return what a sync confirmed as (name, SHA-256), oldest first: what its record keeps
    (a copy whose SHA-256 is unknown proves nothing)."""
    ordered = sorted(proven, key=lambda name: (name.taken_at, str(name)))
    return tuple((str(name), sha256) for name in ordered if (sha256 := proven[name]))


def _age_order(backup: Backup) -> tuple[datetime, str]:
    """Sort key: oldest first (then by name, as names order two backups of one second)."""
    return backup.name.taken_at, str(backup.name)
