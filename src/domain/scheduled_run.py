"""One scheduled run: every database dumped, shared if asked, then pruned if its dump worked."""

from __future__ import annotations

import attrs

from pg_backup_manager.domain.dumping import DumpReport, TakeBackups
from pg_backup_manager.domain.errors import ControllerError
from pg_backup_manager.domain.history import Operation
from pg_backup_manager.domain.model import Database
from pg_backup_manager.domain.pruning import Prune, PruneResult


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


@attrs.frozen(kw_only=True)
class ScheduledRun:
    """Dumps every database (copied to shared when ``copy_to_shared``), then applies
    retention to each database whose dump succeeded, never to one that failed."""

    take_backups: TakeBackups
    prune: Prune
    databases: tuple[Database, ...]
    copy_to_shared: bool

    def __call__(self) -> RunReport:
        """Run once; every failure is in the report, none is raised."""
        dumps = self.take_backups(
            self.databases, share=self.copy_to_shared, operation=Operation.SCHEDULED
        )
        pruned: list[PruneResult | PruneFailure] = []
        for result in dumps.results:
            if result.backup is None:
                continue
            try:
                pruned.append(self.prune.one(result.database))
            except ControllerError as error:
                pruned.append(PruneFailure(database=result.database, error=error))
        return RunReport(dumps=dumps, pruned=tuple(pruned))
