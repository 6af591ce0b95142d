"""``dump``: new, checked and checksummed backups, and their shared copies."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager
from pathlib import PurePath

import attrs

from pg_backup_manager.domain.backups.hooks import (
    Attempt,
    BackupHooks,
    HookError,
    NoHooks,
    after_failed,
    skipped,
    stopped,
)
from pg_backup_manager.domain.backups.policy import tier_of_run
from pg_backup_manager.domain.backups.ports import SharedCopies
from pg_backup_manager.domain.backups.server_runs import GlobalsFiles, GlobalsOfRun
from pg_backup_manager.domain.backups.writing import BackupWriter
from pg_backup_manager.domain.errors import ControllerError, one_line, worst_exit_code
from pg_backup_manager.domain.history import Operation
from pg_backup_manager.domain.model import Database
from pg_backup_manager.domain.names import Backup, BackupName, Tier
from pg_backup_manager.domain.ports import Clock, Locks, RunRecorder
from pg_backup_manager.domain.recording import Recording, recorded


@attrs.frozen(kw_only=True)
class DumpResult:
    """What happened to one database: its backup and shared copy, or why there is none."""

    database: Database
    backup: Backup | None = None
    shared_copy: PurePath | None = None
    error: ControllerError | None = None

    @property
    def succeeded(self) -> bool:
        """Return whether the backup (and its shared copy, if asked for) exists."""
        return self.error is None


@attrs.frozen(kw_only=True)
class DumpReport:
    """The results of one ``dump`` (or the dumps of one scheduled run), in the order asked."""

    results: tuple[DumpResult, ...]

    @property
    def failed(self) -> tuple[DumpResult, ...]:
        """Return the results that failed."""
        return tuple(result for result in self.results if not result.succeeded)

    @property
    def exit_code(self) -> int:
        """Return the exit code: 0, or that of the worst failure."""
        return worst_exit_code(result.error for result in self.results)


def _not_stopped() -> str | None:
    return None


@attrs.define
class _Progress:
    """How far an attempt went: the backup it committed, if any, for the post-backup
    command of an attempt a stop signal interrupts."""

    backup: BackupName | None = None


@attrs.frozen(kw_only=True)
class TakeBackups:
    """Dumps databases, each under its lock, ``parallelism`` at a time, each between the
    commands ``hooks`` runs before and after it (see :mod:`.hooks`); the globals of a
    server whose databases are backed up one by one (``<SERVICE>_POSTGRES_DB=*``) once per
    call, kept in ``globals_files`` meanwhile (None: each dumps its own). ``stopping``
    returns the stop signal that came (``SIGTERM``), None before one."""

    writer: BackupWriter
    shared: SharedCopies
    locks: Locks
    clock: Clock
    run_log: RunRecorder
    timezone: str
    parallelism: int = 1
    hooks: BackupHooks = attrs.field(factory=NoHooks)
    globals_files: GlobalsFiles | None = None
    stopping: Callable[[], str | None] = _not_stopped

    def __call__(
        self,
        databases: Sequence[Database],
        *,
        tier: Tier | None = None,
        share: bool = False,
        operation: Operation = Operation.DUMP,
        unlisted: Sequence[tuple[Database, ControllerError]] = (),
    ) -> DumpReport:
        """Dump ``databases`` into new backups; return what happened to each, after the
        failure of each database in ``unlisted`` (its server could not be listed).

        The tier defaults to the rule of scheduled runs (monthly on the 1st,
        weekly on Saturdays, daily otherwise, in ``timezone``). A failure, a
        busy lock included, is reported, not raised, and the others go on. If
        the caller is interrupted (a stop signal), dumps not yet started are
        cancelled. Each database's run is recorded in its history as ``operation``.
        """
        tier = tier or tier_of_run(self.clock.now(), timezone=self.timezone)
        failed = tuple(self._failed(database, error, operation) for database, error in unlisted)
        with contextlib.ExitStack() as stack:
            run = self._with_globals_of_run(stack)
            return DumpReport(results=failed + run._each(databases, tier, share, operation))

    def _with_globals_of_run(self, stack: contextlib.ExitStack[bool | None]) -> TakeBackups:
        """Return this, its writer taking each server's globals once, kept until ``stack``
        closes (:class:`GlobalsOfRun`)."""
        if self.globals_files is None:
            return self
        once = GlobalsOfRun(
            dumper=self.writer.globals_dumper, files=self.globals_files, stack=stack
        )
        writer = attrs.evolve(self.writer, globals_dumper=once)
        return attrs.evolve(self, writer=writer, globals_files=None)

    def _each(
        self, databases: Sequence[Database], tier: Tier, share: bool, operation: Operation
    ) -> tuple[DumpResult, ...]:
        if self.parallelism <= 1 or len(databases) <= 1:
            return tuple(self._one(database, tier, share, operation) for database in databases)
        with ThreadPoolExecutor(max_workers=self.parallelism, thread_name_prefix="dump") as pool:
            futures: list[Future[DumpResult]] = [
                pool.submit(self._one, database, tier, share, operation) for database in databases
            ]
            try:
                return tuple(future.result() for future in futures)
            except BaseException:
                for future in futures:
                    future.cancel()
                raise

    def _failed(
        self, database: Database, error: ControllerError, operation: Operation
    ) -> DumpResult:
        with self._recorded(database, operation) as recording:
            recording.failed(error)
        return DumpResult(database=database, error=error)

    def _recorded(
        self, database: Database, operation: Operation
    ) -> AbstractContextManager[Recording]:
        return recorded(
            run_log=self.run_log,
            clock=self.clock,
            identifier=database.identifier,
            operation=operation,
        )

    def _one(self, database: Database, tier: Tier, share: bool, operation: Operation) -> DumpResult:
        with self._recorded(database, operation) as recording:
            result = self._dump(database, tier, share)
            recording.backup = result.backup
            if result.error is not None:
                recording.failed(result.error)
        return result

    def _dump(self, database: Database, tier: Tier, share: bool) -> DumpResult:
        try:
            with self.locks.hold(database.identifier, create=True):
                return self._hooked(database, tier, share)
        except ControllerError as error:  # busy: no command runs
            return DumpResult(database=database, error=error)

    def _hooked(self, database: Database, tier: Tier, share: bool) -> DumpResult:
        """Back up ``database`` between its commands (see :mod:`.hooks`): the post-backup
        one runs whatever ends the attempt, a stop signal included, which then goes on."""
        progress = _Progress()
        try:
            result = self._before_and_take(database, tier, share, progress)
        except BaseException as stop:
            self._after_stop(database, progress.backup, stop)
            raise
        name = result.backup.name if result.backup is not None else None
        said = one_line(result.error) if result.error is not None else None
        told = Attempt(backup=name, error=stopped(said, by=self.stopping()))
        try:
            self.hooks.after(database, told)
        except HookError as error:
            return attrs.evolve(result, error=after_failed(error, backup=name, first=result.error))
        return result

    def _before_and_take(
        self, database: Database, tier: Tier, share: bool, progress: _Progress
    ) -> DumpResult:
        try:
            self.hooks.before(database)
        except HookError as error:
            return DumpResult(database=database, error=skipped(error))
        return self._take(database, tier, share, progress)

    def _after_stop(
        self, database: Database, backup: BackupName | None, stop: BaseException
    ) -> None:
        """Run the post-backup command of an attempt that ``stop`` (a stop signal, or an
        unexpected error) interrupted; its failure is a note of ``stop``, which goes on."""
        by = self.stopping() or (None if isinstance(stop, Exception) else type(stop).__name__)
        said = None if by is not None else f"unexpected {type(stop).__name__}: {one_line(stop)}"
        try:
            self.hooks.after(database, Attempt(backup=backup, error=stopped(said, by=by)))
        except HookError as error:
            stop.add_note(one_line(after_failed(error, backup=backup, first=None)))

    def _take(self, database: Database, tier: Tier, share: bool, progress: _Progress) -> DumpResult:
        try:
            backup = self.writer.write(database, tier)
        except ControllerError as error:
            return DumpResult(database=database, error=error)
        progress.backup = backup.name
        if not share:
            return DumpResult(database=database, backup=backup)
        try:
            copy = self.shared.share(database.identifier, backup.name)
        except ControllerError as error:
            return DumpResult(database=database, backup=backup, error=error)
        return DumpResult(database=database, backup=backup, shared_copy=copy)
