"""``dump``: new, checked and checksummed backups, and their shared copies."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from pathlib import PurePath

import attrs

from pg_backup_manager.domain.backups.policy import tier_of_run
from pg_backup_manager.domain.backups.ports import (
    ArchiveChecker,
    Dumper,
    GlobalsDumper,
    SharedCopies,
    Staging,
)
from pg_backup_manager.domain.backups.server_runs import GlobalsFiles, GlobalsOfRun
from pg_backup_manager.domain.errors import ControllerError, ToolError, worst_exit_code
from pg_backup_manager.domain.history import Operation
from pg_backup_manager.domain.model import Database
from pg_backup_manager.domain.names import Backup, BackupName, Tier
from pg_backup_manager.domain.ports import BackupReader, Clock, Locks, RunRecorder
from pg_backup_manager.domain.recording import Recording, recorded
from pg_backup_manager.domain.restore.ports import ServerDatabases
from pg_backup_manager.domain.restore.recovery import explain_a_missing_target


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


@attrs.frozen(kw_only=True)
class BackupWriter:
    """Writes one new backup of a database; its caller holds the database's lock.

    The archive counts only once ``pg_restore`` has read all of it and its
    SHA-256 is recorded. The cluster's globals are saved beside it, so that it
    can be restored onto a server that lacks its roles.
    """

    clock: Clock
    catalog: BackupReader
    staging: Staging
    dumper: Dumper
    globals_dumper: GlobalsDumper
    checker: ArchiveChecker
    server: ServerDatabases

    def write(
        self, database: Database, tier: Tier, *, globals_of_run: GlobalsDumper | None = None
    ) -> Backup:
        """Dump ``database`` into a new backup of ``tier``; return it. Its globals come from
        ``globals_of_run`` when given (a run's, dumped once per server), else from
        ``globals_dumper``.

        Raises:
            ControllerError: the dump or its check failed (a target that a killed
                restore left aside is named); no backup was made.
        """
        # Names only: their sizes would cost a stat of every backup in the directory.
        taken = {name.taken_at for name in self.catalog.backup_names(database.identifier)}
        name = BackupName.for_run(tier=tier, at=_free_second(self.clock.now(), taken))
        with self.staging.begin(database.identifier, name) as draft:
            try:
                self.dumper.dump(database, draft.path)
                # After the dump: its errors say most about a server that refuses us.
                (globals_of_run or self.globals_dumper).dump_globals(database, draft.globals_path)
            except ToolError:
                explain_a_missing_target(database=database, server=self.server)
                raise
            checksum = self.checker.check(draft.path)
            made_by = self.checker.made_by(draft.path)
            backup = draft.commit(checksum, self.checker.digest(draft.globals_path))
        return attrs.evolve(
            backup,
            sha256=checksum,
            pg_dump_version=made_by.pg_dump,
            server_version=made_by.server,
        )


def _free_second(at: datetime, taken: set[datetime]) -> datetime:
    """Return ``at`` to the second, moved on past the times already taken.

    Two runs in one second (a manual dump right after a scheduled one) would
    otherwise collide; one backup per second and database keeps names unique.
    """
    at = at.replace(microsecond=0)
    while at in taken:
        at += timedelta(seconds=1)
    return at


@attrs.frozen(kw_only=True)
class TakeBackups:
    """Dumps databases, each under its lock, ``parallelism`` at a time; the globals of a
    server whose databases are backed up one by one (``<SERVICE>_POSTGRES_DB=*``) once per
    call, kept in ``globals_files`` meanwhile (None: each dumps its own)."""

    writer: BackupWriter
    shared: SharedCopies
    locks: Locks
    clock: Clock
    run_log: RunRecorder
    timezone: str
    parallelism: int = 1
    globals_files: GlobalsFiles | None = None

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
            run_globals = None
            if self.globals_files is not None:
                run_globals = GlobalsOfRun(
                    dumper=self.writer.globals_dumper, files=self.globals_files, stack=stack
                )
            one = functools.partial(
                self._one, tier=tier, share=share, operation=operation, run_globals=run_globals
            )
            if self.parallelism <= 1 or len(databases) <= 1:
                return DumpReport(results=failed + tuple(one(database) for database in databases))
            with ThreadPoolExecutor(self.parallelism, thread_name_prefix="dump") as pool:
                futures: list[Future[DumpResult]] = [pool.submit(one, d) for d in databases]
                try:
                    return DumpReport(results=failed + tuple(f.result() for f in futures))
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

    def _one(
        self,
        database: Database,
        *,
        tier: Tier,
        share: bool,
        operation: Operation,
        run_globals: GlobalsOfRun | None,
    ) -> DumpResult:
        with self._recorded(database, operation) as recording:
            result = self._dump(database, tier, share, run_globals)
            recording.backup = result.backup
            if result.error is not None:
                recording.failed(result.error)
        return result

    def _dump(
        self, database: Database, tier: Tier, share: bool, run_globals: GlobalsOfRun | None
    ) -> DumpResult:
        try:
            with self.locks.hold(database.identifier):
                backup = self.writer.write(database, tier, globals_of_run=run_globals)
                if not share:
                    return DumpResult(database=database, backup=backup)
                try:
                    copy = self.shared.share(database.identifier, backup.name)
                except ControllerError as error:
                    return DumpResult(database=database, backup=backup, error=error)
                return DumpResult(database=database, backup=backup, shared_copy=copy)
        except ControllerError as error:
            return DumpResult(database=database, error=error)
