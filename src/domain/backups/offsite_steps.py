"""The off-site steps of a backup run: upload what each database that got a new backup
misses off-site, then apply retention to the copies. Which of them run is decided once,
by the composition root (:class:`~pg_backup_manager.domain.offsite.use.OffsiteUse`):
:class:`NoOffsite` without ``OFFSITE_URL``, :class:`CopyOffsite` with it.

An upload comes after the backup is committed and its lock released: a failed
upload never touches the local backup. It is reported (the result, and a
``sync`` failure in the database's history), and the next run uploads every
local backup still missing, oldest first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import attrs

from pg_backup_manager.domain.backups.dumping import DumpReport
from pg_backup_manager.domain.backups.pruning import PruneResult
from pg_backup_manager.domain.errors import ControllerError, one_line
from pg_backup_manager.domain.model import Database
from pg_backup_manager.domain.names import BackupName
from pg_backup_manager.domain.offsite.pruning import PruneOffsite
from pg_backup_manager.domain.offsite.sync import Sync, SyncResult


@attrs.frozen(kw_only=True)
class OffsiteAfterBackup:
    """The upload that followed new backup ``backup`` of a database."""

    backup: BackupName
    sync: SyncResult

    @property
    def succeeded(self) -> bool:
        """Return whether every local backup of the database is off-site now."""
        return self.sync.error is None

    @property
    def problem(self) -> str | None:
        """Return what a failed upload means, on one line (None: it did not fail)."""
        if self.sync.error is None:
            return None
        return (
            f"{self.backup} exists locally but is not off-site yet "
            f"({len(self.sync.missing)} backup(s) not off-site, kept locally; the next run "
            f"uploads them): {one_line(self.sync.error)}"
        )


@attrs.frozen(kw_only=True)
class PruneFailure:
    """Retention of one database could not run."""

    database: Database
    error: ControllerError


Retention = PruneResult | PruneFailure


@attrs.frozen(kw_only=True)
class NoOffsite:
    """No off-site store (``OFFSITE_URL`` unset): nothing is uploaded or pruned off-site."""

    def upload(self, dumps: DumpReport) -> tuple[OffsiteAfterBackup, ...]:
        """Return no uploads."""
        return ()

    def prune(self, uploads: Sequence[OffsiteAfterBackup]) -> tuple[Retention, ...]:
        """Return no retention."""
        return ()

    def prune_kept(self, databases: Sequence[Database]) -> tuple[Retention, ...]:
        """Return no retention."""
        return ()


@attrs.frozen(kw_only=True)
class CopyOffsite:
    """Uploads through ``sync``; applies retention through ``prune_offsite`` when
    ``retention`` (``OFFSITE_RETENTION``) is on."""

    sync: Sync
    prune_offsite: PruneOffsite
    retention: bool

    def upload(self, dumps: DumpReport) -> tuple[OffsiteAfterBackup, ...]:
        """Upload what is missing off-site of each database that ``dumps`` gave a new
        backup; return what happened to each. Failures are in the results, never raised."""
        return tuple(
            OffsiteAfterBackup(backup=result.backup.name, sync=self.sync.one(result.database))
            for result in dumps.results
            if result.backup is not None
        )

    def prune(self, uploads: Sequence[OffsiteAfterBackup]) -> tuple[Retention, ...]:
        """Apply retention off-site to each database whose every backup went off-site in
        ``uploads`` (never to one whose upload failed); failures are in the results."""
        if not self.retention:
            return ()
        return tuple(
            retained(self.prune_offsite.one, upload.sync.database)
            for upload in uploads
            if upload.succeeded
        )

    def prune_kept(self, databases: Sequence[Database]) -> tuple[Retention, ...]:
        """Apply retention off-site to ``databases``, which get no new backup (no longer on
        their server): their copies age out as their local backups do."""
        if not self.retention:
            return ()
        return tuple(retained(self.prune_offsite.one, database) for database in databases)


def retained(prune: Callable[[Database], PruneResult], database: Database) -> Retention:
    """Return what ``prune`` did to ``database``, or why it could not."""
    try:
        return prune(database)
    except ControllerError as error:
        return PruneFailure(database=database, error=error)
