"""Off-site copies: what is missing from the object store, and ``sync``, which uploads it.

The store holds each database's backups under its own key prefix; a backup
counts as off-site once the store reports it (see :class:`OffsiteStore`).
Uploading never touches the local backup: a failed upload leaves it in place
for the next run.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import attrs

from pg_backup_manager.domain.errors import ControllerError, worst_exit_code
from pg_backup_manager.domain.history import Operation
from pg_backup_manager.domain.model import Database
from pg_backup_manager.domain.names import Backup, BackupName, OffsiteCopy
from pg_backup_manager.domain.ports import BackupCatalog, Clock, Locks, OffsiteStore, RunLog
from pg_backup_manager.domain.recording import recorded


def missing_offsite(local: Iterable[Backup], remote: Iterable[BackupName]) -> list[Backup]:
    """Return the local backups that are not off-site, oldest first (the order to upload
    them: the oldest is the one retention may soon delete locally)."""
    present = set(remote)
    missing = [backup for backup in local if backup.name not in present]
    return sorted(missing, key=lambda backup: (backup.name.taken_at, str(backup.name)))


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
        missing: list[Backup] = []
        already = 0
        with recorded(
            run_log=self.run_log, clock=self.clock, identifier=identifier, operation=Operation.SYNC
        ) as recording:
            try:
                with self.locks.hold(identifier):
                    local = self.catalog.backups(identifier)
                    remote = [copy.name for copy in self.offsite.copies(identifier)]
                    missing = missing_offsite(local, remote)
                    already = len(local) - len(missing)
                    for backup in missing:
                        uploaded.append(self._upload(identifier, backup))
            except ControllerError as error:
                recording.failed(error)
                return SyncResult(
                    database=database,
                    uploaded=tuple(uploaded),
                    already_offsite=already,
                    missing=tuple(backup.name for backup in missing[len(uploaded) :]),
                    error=error,
                )
        return SyncResult(database=database, uploaded=tuple(uploaded), already_offsite=already)

    def _upload(self, identifier: str, backup: Backup) -> OffsiteCopy:
        archive = self.catalog.archive(identifier, backup.name)
        if archive.checksum is None:
            raise ControllerError(
                f"{backup.name} has no checksum file (made before checksums were kept): "
                "nothing could prove its off-site copy; delete it or keep it local only"
            )
        globals_file = self.catalog.globals(identifier, backup.name) if backup.has_globals else None
        return self.offsite.upload(identifier, backup.name, archive=archive, globals=globals_file)
