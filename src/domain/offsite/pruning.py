"""Retention off-site: a retention policy (the local one unless OFFSITE_KEEP_* says
otherwise; judged from the names) applied to the copies in the object store, under each
database's lock.

Only what :meth:`OffsitePruner.copies` returns is judged: the keys directly under
``<prefix>/<identifier>/`` whose names are backup names. No key of another
prefix or database, and no other object, is ever judged or deleted.

Of those, only the copies the controller would restore (:attr:`OffsiteCopy.usable`)
count toward the newest and ``MIN_BACKUPS_KEPT``, and only they are ever deleted.
The others (a hand copy, another host's object, a copy that lost its checksum)
are reported and left alone: the controller cannot vouch for them, so it never
lets them push a real copy out, and never deletes what someone else may own.
"""

from __future__ import annotations

import contextlib

import attrs

from pg_backup_manager.domain.backups.policy import DEFAULT_POLICY, RetentionPolicy, plan_retention
from pg_backup_manager.domain.backups.pruning import PruneResult
from pg_backup_manager.domain.errors import ConfigurationError
from pg_backup_manager.domain.history import Operation
from pg_backup_manager.domain.model import Database
from pg_backup_manager.domain.offsite.ports import OffsitePruner
from pg_backup_manager.domain.ports import Clock, Locks, RunRecorder
from pg_backup_manager.domain.recording import recorded


@attrs.frozen(kw_only=True)
class PruneOffsite:
    """Applies retention to the off-site copies under ``policy`` (OFFSITE_KEEP_*, else
    KEEP_*, and MIN_BACKUPS_KEPT; ``enabled`` False: OFFSITE_RETENTION=false, every copy
    is kept)."""

    offsite: OffsitePruner
    locks: Locks
    clock: Clock
    run_log: RunRecorder
    policy: RetentionPolicy = DEFAULT_POLICY
    enabled: bool = True

    def one(self, database: Database, *, dry_run: bool = False) -> PruneResult:
        """Apply retention to the off-site copies of ``database``; with ``dry_run``, delete
        nothing. The ``policy.min_kept`` newest usable copies are always kept; the copies the
        controller would not restore are returned in ``unusable``, neither counted nor
        deleted.

        Raises:
            ConfigurationError: off-site retention is off (OFFSITE_RETENTION=false).
            BusyError: another operation holds the database's lock.
            ControllerError: the store cannot be reached or refuses a deletion.
        """
        if not self.enabled:
            raise ConfigurationError(
                "OFFSITE_RETENTION=false: every off-site copy is kept (for a bucket with its "
                "own lifecycle rules or object lock); set it to true to prune them"
            )
        identifier = database.identifier
        record = recorded(
            run_log=self.run_log,
            clock=self.clock,
            identifier=identifier,
            operation=Operation.PRUNE_OFFSITE,
        )
        with record if not dry_run else contextlib.nullcontext(), self.locks.hold(identifier):
            copies = self.offsite.copies(identifier)
            plan = plan_retention(
                (copy.name for copy in copies if copy.usable),
                now=self.clock.now(),
                policy=self.policy,
            )
            if not dry_run:
                for name in plan.to_delete:
                    self.offsite.delete(identifier, name)
        unusable = tuple(copy for copy in copies if not copy.usable)
        return PruneResult(database=database, plan=plan, dry_run=dry_run, unusable=unusable)
