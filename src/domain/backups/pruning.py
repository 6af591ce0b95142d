"""``prune``: retention applied now, under each database's lock."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence

import attrs

from pg_backup_manager.domain.backups.policy import (
    DEFAULT_POLICY,
    RetentionPlan,
    RetentionPolicy,
    plan_retention,
)
from pg_backup_manager.domain.history import Operation
from pg_backup_manager.domain.model import Database
from pg_backup_manager.domain.offsite_copies import OffsiteCopy
from pg_backup_manager.domain.ports import BackupCatalog, Clock, Locks, RunRecorder
from pg_backup_manager.domain.recording import recorded


@attrs.frozen(kw_only=True)
class PruneResult:
    """The retention plan of one database, carried out unless it was a dry run; off-site,
    the copies the controller would not restore, which retention neither counted nor
    deleted (``unusable``)."""

    database: Database
    plan: RetentionPlan
    dry_run: bool
    unusable: tuple[OffsiteCopy, ...] = ()


@attrs.frozen(kw_only=True)
class PruneReport:
    """The results of one ``prune`` (local or off-site), in the order asked."""

    results: tuple[PruneResult, ...]

    @property
    def exit_code(self) -> int:
        """Return 0: a prune that could not run raised instead (busy, a failed deletion)."""
        return 0


def prune_each(
    databases: Sequence[Database],
    *,
    prune: Callable[[Database], PruneResult],
    told: Callable[[PruneResult], None],
) -> PruneReport:
    """Apply ``prune`` (local or off-site retention) to each of ``databases``, handing each
    result to ``told`` as soon as it is done; return them all.

    Raises:
        ControllerError: as ``prune`` raises it; what was told before stands.
    """
    results = []
    for database in databases:
        result = prune(database)
        told(result)
        results.append(result)
    return PruneReport(results=tuple(results))


@attrs.frozen(kw_only=True)
class Prune:
    """Applies retention (``policy``: KEEP_* and MIN_BACKUPS_KEPT): only files that are
    backups are ever judged or deleted."""

    catalog: BackupCatalog
    locks: Locks
    clock: Clock
    run_log: RunRecorder
    policy: RetentionPolicy = DEFAULT_POLICY

    def __call__(
        self, databases: Sequence[Database], *, dry_run: bool = False
    ) -> list[PruneResult]:
        """Apply retention to each of ``databases``; with ``dry_run`` delete nothing.

        Raises:
            BusyError: another operation holds a database's lock.
            ControllerError: a backup cannot be deleted.
        """
        return [self.one(database, dry_run=dry_run) for database in databases]

    def one(self, database: Database, *, dry_run: bool = False) -> PruneResult:
        """Apply retention to ``database``; see :meth:`__call__`."""
        record = recorded(
            run_log=self.run_log,
            clock=self.clock,
            identifier=database.identifier,
            operation=Operation.PRUNE,
        )
        with (
            record if not dry_run else contextlib.nullcontext(),
            self.locks.hold(database.identifier),
        ):
            plan = plan_retention(
                self.catalog.backup_names(database.identifier),
                now=self.clock.now(),
                policy=self.policy,
            )
            if not dry_run:
                for name in plan.to_delete:
                    self.catalog.delete(database.identifier, name)
        return PruneResult(database=database, plan=plan, dry_run=dry_run)
