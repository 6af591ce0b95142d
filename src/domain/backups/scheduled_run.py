"""One scheduled run: every database dumped, shared if asked, uploaded off-site when a store
is configured, then pruned if its dump worked."""

from __future__ import annotations

import attrs

from pg_backup_manager.domain.backups.backing_up import OffsiteAfterBackup, upload_new_backups
from pg_backup_manager.domain.backups.dumping import DumpReport, TakeBackups
from pg_backup_manager.domain.backups.pruning import Prune, PruneResult
from pg_backup_manager.domain.errors import ControllerError
from pg_backup_manager.domain.history import Operation
from pg_backup_manager.domain.model import Database
from pg_backup_manager.domain.offsite.pruning import PruneOffsite
from pg_backup_manager.domain.offsite.sync import Sync


@attrs.frozen(kw_only=True)
class PruneFailure:
    """Retention of one database could not run."""

    database: Database
    error: ControllerError


@attrs.frozen(kw_only=True)
class RunReport:
    """What one scheduled run did."""

    dumps: DumpReport
    pruned: tuple[PruneResult | PruneFailure, ...]
    offsite: tuple[OffsiteAfterBackup, ...] = ()
    pruned_offsite: tuple[PruneResult | PruneFailure, ...] = ()


@attrs.frozen(kw_only=True)
class ScheduledRun:
    """Dumps every database (copied to shared when ``copy_to_shared``), uploads what each
    database that got a new backup misses off-site (when ``sync`` is given), then applies
    retention to each database whose dump succeeded, never to one that failed.

    The upload comes before retention, so the oldest backups, those retention
    may delete, go off-site first. Retention applies off-site (``prune_offsite``)
    only to the databases whose every backup went off-site in this run.
    """

    take_backups: TakeBackups
    prune: Prune
    databases: tuple[Database, ...]
    copy_to_shared: bool
    sync: Sync | None = None
    prune_offsite: PruneOffsite | None = None

    def __call__(self) -> RunReport:
        """Run once; every failure is in the report, none is raised."""
        dumps = self.take_backups(
            self.databases, share=self.copy_to_shared, operation=Operation.SCHEDULED
        )
        offsite = upload_new_backups(self.sync, dumps)
        pruned: list[PruneResult | PruneFailure] = []
        for result in dumps.results:
            if result.backup is None:
                continue
            try:
                pruned.append(self.prune.one(result.database))
            except ControllerError as error:
                pruned.append(PruneFailure(database=result.database, error=error))
        pruned_offsite: list[PruneResult | PruneFailure] = []
        for upload in offsite:
            if self.prune_offsite is None or not upload.succeeded:
                continue
            try:
                pruned_offsite.append(self.prune_offsite.one(upload.sync.database))
            except ControllerError as error:
                pruned_offsite.append(PruneFailure(database=upload.sync.database, error=error))
        return RunReport(
            dumps=dumps,
            pruned=tuple(pruned),
            offsite=offsite,
            pruned_offsite=tuple(pruned_offsite),
        )
