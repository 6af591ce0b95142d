"""Point-in-time retention carried out: ``prune`` applies it to each service with
WAL archiving on (after the dumps' retention), and ``controller start`` after each
base backup that counts.

Under the service's PITR lock, the plan of :func:`plan_pitr_retention` is carried
out stream by stream, oldest first: a stream that goes is hidden, then removed; in
a stream that stays, its old base backups go (facts first, so none is ever listed
half-deleted), then its WAL before the oldest kept base backup, oldest first. A
deletion that fails is reported in one line and the rest goes on, except that a
stream whose base backup could not go keeps all its WAL (that backup may need it),
and a stream stops deleting WAL at its first failure (no hole is made in what is
left, and a broken directory gives one line, not one per segment).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Sequence
from datetime import datetime

import attrs

from pg_backup_manager.domain.errors import ControllerError, one_line
from pg_backup_manager.domain.history import Operation
from pg_backup_manager.domain.model import Database
from pg_backup_manager.domain.pitr.basebackup import BaseBackupResult
from pg_backup_manager.domain.pitr.model import StreamContents
from pg_backup_manager.domain.pitr.ports import PitrPruner, PitrStore
from pg_backup_manager.domain.pitr.retention import (
    PitrRetentionPlan,
    StreamPlan,
    plan_pitr_retention,
)
from pg_backup_manager.domain.ports import Clock, Locks, RunRecorder
from pg_backup_manager.domain.recording import Recording, recorded

log = logging.getLogger("controller")


@attrs.frozen(kw_only=True)
class Deleted:
    """How many base backups, WAL segments and whole streams went."""

    base_backups: int = 0
    segments: int = 0
    streams: int = 0

    @classmethod
    def planned(cls, plan: PitrRetentionPlan) -> Deleted:
        """Return what ``plan`` deletes (a stream that goes counts its contents too)."""
        return cls(
            base_backups=len(plan.bases_to_delete),
            segments=sum(len(p.segments_to_delete) for p in plan.streams),
            streams=len(plan.streams_to_delete),
        )

    def __add__(self, other: Deleted) -> Deleted:
        return Deleted(
            base_backups=self.base_backups + other.base_backups,
            segments=self.segments + other.segments,
            streams=self.streams + other.streams,
        )

    def __str__(self) -> str:
        return (
            f"{self.base_backups} base backups, {self.segments} WAL segments, "
            f"{self.streams} streams"
        )


@attrs.frozen(kw_only=True)
class PitrPruneResult:
    """The PITR retention plan of one service at ``at``, what was deleted (nothing in a
    dry run) and each deletion that failed, in one line."""

    database: Database
    plan: PitrRetentionPlan
    at: datetime
    dry_run: bool
    deleted: Deleted = Deleted()
    failures: tuple[str, ...] = ()

    @property
    def exit_code(self) -> int:
        """Return 1 when a deletion failed, else 0."""
        return 1 if self.failures else 0


@attrs.frozen(kw_only=True)
class PitrPruneReport:
    """The results of one ``prune`` of the services with WAL archiving on, in order."""

    results: tuple[PitrPruneResult, ...]

    @property
    def exit_code(self) -> int:
        """Return 1 when a deletion failed in any service, else 0 (busy raised)."""
        return max((result.exit_code for result in self.results), default=0)


@attrs.frozen(kw_only=True)
class PrunePitr:
    """Applies point-in-time retention (``retention_days``: ``PITR_RETENTION_DAYS``)."""

    store: PitrStore
    pruner: PitrPruner
    locks: Locks
    clock: Clock
    run_log: RunRecorder
    retention_days: int

    def __call__(
        self,
        databases: Sequence[Database],
        *,
        dry_run: bool = False,
        told: Callable[[PitrPruneResult], None] = lambda result: None,
    ) -> PitrPruneReport:
        """Apply retention to each of ``databases``, handing each result to ``told`` as
        soon as it is done; return them all. See :meth:`one`."""
        results = []
        for database in databases:
            result = self.one(database, dry_run=dry_run)
            told(result)
            results.append(result)
        return PitrPruneReport(results=tuple(results))

    def one(self, database: Database, *, dry_run: bool = False) -> PitrPruneResult:
        """Apply retention to ``database`` under its PITR lock, recorded in its history
        (operation ``prune-pitr``, its note what was deleted) unless ``dry_run``, which
        deletes nothing. A deletion that failed is in the result, not raised.

        Raises:
            BusyError: another base backup or prune of the service holds its lock.
            ControllerError: the streams cannot be read (nothing was deleted).
        """
        identifier = database.identifier
        record: contextlib.AbstractContextManager[Recording | None] = (
            contextlib.nullcontext()
            if dry_run
            else recorded(
                run_log=self.run_log,
                clock=self.clock,
                identifier=identifier,
                operation=Operation.PRUNE_PITR,
            )
        )
        with record as recording, self.locks.hold(identifier):
            at = self.clock.now()
            plan = plan_pitr_retention(
                self._contents(identifier), now=at, retention_days=self.retention_days
            )
            result = PitrPruneResult(database=database, plan=plan, at=at, dry_run=dry_run)
            if recording is None:
                return result
            deleted, failures = Deleted(), list[str]()
            for stream_plan in plan.streams:
                deleted += self._carry_out(identifier, stream_plan, failures)
            recording.note = f"deleted {deleted}"
            if failures:
                recording.failed(f"{len(failures)} deletions failed, the first: {failures[0]}")
        return attrs.evolve(result, deleted=deleted, failures=tuple(failures))

    def _contents(self, identifier: str) -> list[StreamContents]:
        return [
            self.store.contents(identifier, stream) for stream in self.store.streams(identifier)
        ]

    def _carry_out(self, identifier: str, plan: StreamPlan, failures: list[str]) -> Deleted:
        stream = plan.stream
        if not plan.keep:
            try:
                self.pruner.delete_stream(identifier, stream)
            except ControllerError as error:
                failures.append(one_line(error))
                return Deleted()
            return Deleted(
                base_backups=len(plan.bases_to_delete),
                segments=len(plan.segments_to_delete),
                streams=1,
            )
        bases = 0
        for base in plan.bases_to_delete:
            try:
                self.pruner.delete_base_backup(identifier, stream, base)
                bases += 1
            except ControllerError as error:
                failures.append(one_line(error))
        if bases < len(plan.bases_to_delete):
            return Deleted(base_backups=bases)  # its WAL stays for the backups left
        segments = 0
        for segment in plan.segments_to_delete:  # oldest first
            try:
                self.pruner.delete_segment(identifier, stream, segment)
            except ControllerError as error:
                failures.append(one_line(error))
                break
            segments += 1
        return Deleted(base_backups=bases, segments=segments)


@attrs.frozen(kw_only=True)
class PrunedAfterBaseBackup:
    """What ``controller start``'s supervisor calls to take a base backup: ``take``,
    then, when the new backup counts, ``prune`` (recorded in the history by itself).
    Never raises: a retention that fails or finds the lock busy is logged and recorded,
    and the next base backup tries again."""

    take: Callable[[Database], BaseBackupResult]
    prune: PrunePitr

    def __call__(self, database: Database) -> BaseBackupResult:
        """Return the base backup's result, whatever retention did."""
        result = self.take(database)
        if result.error is not None:
            return result
        identifier = database.identifier
        try:
            pruned = self.prune.one(database)
        except ControllerError as error:
            log.error("%s: PITR retention failed: %s", identifier, one_line(error))
            return result
        for failure in pruned.failures:
            log.error("%s: PITR retention: %s", identifier, failure)
        log.info("%s: PITR retention deleted %s", identifier, pruned.deleted)
        return result
