"""New backups and their off-site copies: after each committed backup, what is missing
off-site is uploaded (when an off-site store is configured).

The upload comes after the backup is committed and its lock released: a failed
upload never touches the local backup. It is reported (the result, and a
``sync`` failure in the database's history), and the next run uploads every
local backup still missing, oldest first.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from pg_backup_manager.domain.backups.dumping import DumpReport, TakeBackups
from pg_backup_manager.domain.history import Operation
from pg_backup_manager.domain.model import Database
from pg_backup_manager.domain.names import BackupName, Tier
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


def upload_new_backups(sync: Sync | None, dumps: DumpReport) -> tuple[OffsiteAfterBackup, ...]:
    """Upload what is missing off-site of each database that ``dumps`` gave a new backup;
    return what happened to each (nothing when ``sync`` is None: no off-site store).

    Failures are in the results, never raised.
    """
    if sync is None:
        return ()
    return tuple(
        OffsiteAfterBackup(backup=result.backup.name, sync=sync.one(result.database))
        for result in dumps.results
        if result.backup is not None
    )


@attrs.frozen(kw_only=True)
class BackupReport:
    """What ``dump`` did: the new backups, then their off-site copies."""

    dumps: DumpReport
    offsite: tuple[OffsiteAfterBackup, ...] = ()

    @property
    def exit_code(self) -> int:
        """Return the dumps' exit code, or 1 when a new backup is not off-site yet."""
        if self.dumps.exit_code:
            return self.dumps.exit_code
        return 0 if all(upload.succeeded for upload in self.offsite) else 1


@attrs.frozen(kw_only=True)
class BackUp:
    """Takes new backups, then uploads what is missing off-site of each database that got
    one (``sync`` None: no off-site store is configured)."""

    take_backups: TakeBackups
    sync: Sync | None = None

    def __call__(
        self,
        databases: Sequence[Database],
        *,
        tier: Tier | None = None,
        share: bool = False,
        operation: Operation = Operation.DUMP,
    ) -> BackupReport:
        """Back up ``databases`` (see :class:`TakeBackups`) and upload; return what happened.

        Every failure is in the report, none is raised.
        """
        dumps = self.take_backups(databases, tier=tier, share=share, operation=operation)
        return BackupReport(dumps=dumps, offsite=upload_new_backups(self.sync, dumps))
