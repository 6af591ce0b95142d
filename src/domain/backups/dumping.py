"""``dump``: new, checked and checksummed backups, and their shared copies."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import PurePath

import attrs

from pg_backup_manager.domain.backups.hooks import (
    Attempt,
    BackupHooks,
    HookError,
    NoHooks,
    after_failed,
    skipped,
)
from pg_backup_manager.domain.backups.policy import tier_of_run
from pg_backup_manager.domain.backups.ports import (
    ArchiveChecker,
    Dumper,
    GlobalsDumper,
    SharedCopies,
    Staging,
)
from pg_backup_manager.domain.errors import ControllerError, ToolError, one_line, worst_exit_code
from pg_backup_manager.domain.history import Operation
from pg_backup_manager.domain.model import Database
from pg_backup_manager.domain.names import Backup, BackupName, Tier
from pg_backup_manager.domain.ports import BackupReader, Clock, Locks, RunRecorder
from pg_backup_manager.domain.recording import recorded
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

    def write(self, database: Database, tier: Tier, *, whole: bool = False) -> Backup:
        """Dump ``database`` into a new backup of ``tier``; return it.

        The backup leaves out what the database's dump options leave out, and says so
        (it is partial), unless ``whole``: a restore's safety dump saves everything.

        Raises:
            ControllerError: the dump or its check failed (a target that a killed
                restore left aside is named); no backup was made.
        """
        # Names only: their sizes would cost a stat of every backup in the directory.
        taken = {name.taken_at for name in self.catalog.backup_names(database.identifier)}
        name = BackupName.for_run(tier=tier, at=_free_second(self.clock.now(), taken))
        if whole:
            database = attrs.evolve(database, dump_options=database.dump_options.whole())
        with self.staging.begin(database.identifier, name) as draft:
            try:
                self.dumper.dump(database, draft.path)
                # After the dump: its errors say most about a server that refuses us.
                self.globals_dumper.dump_globals(database, draft.globals_path)
            except ToolError:
                explain_a_missing_target(database=database, server=self.server)
                raise
            checksum = self.checker.check(draft.path)
            made_by = self.checker.made_by(draft.path)
            backup = draft.commit(
                checksum,
                self.checker.digest(draft.globals_path),
                left_out=database.dump_options.left_out,
            )
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
    """Dumps databases, each under its lock, ``parallelism`` at a time, each between the
    commands ``hooks`` runs before and after it (see :mod:`.hooks`)."""

    writer: BackupWriter
    shared: SharedCopies
    locks: Locks
    clock: Clock
    run_log: RunRecorder
    timezone: str
    parallelism: int = 1
    hooks: BackupHooks = attrs.field(factory=NoHooks)

    def __call__(
        self,
        databases: Sequence[Database],
        *,
        tier: Tier | None = None,
        share: bool = False,
        operation: Operation = Operation.DUMP,
    ) -> DumpReport:
        """Dump ``databases`` into new backups; return what happened to each.

        The tier defaults to the rule of scheduled runs (monthly on the 1st,
        weekly on Saturdays, daily otherwise, in ``timezone``). A failure, a
        busy lock included, is reported, not raised, and the others go on. If
        the caller is interrupted (a stop signal), dumps not yet started are
        cancelled. Each database's run is recorded in its history as ``operation``.
        """
        tier = tier or tier_of_run(self.clock.now(), timezone=self.timezone)
        if self.parallelism <= 1 or len(databases) <= 1:
            results = [self._one(database, tier, share, operation) for database in databases]
            return DumpReport(results=tuple(results))
        with ThreadPoolExecutor(max_workers=self.parallelism, thread_name_prefix="dump") as pool:
            futures: list[Future[DumpResult]] = [
                pool.submit(self._one, database, tier, share, operation) for database in databases
            ]
            try:
                return DumpReport(results=tuple(future.result() for future in futures))
            except BaseException:
                for future in futures:
                    future.cancel()
                raise

    def _one(self, database: Database, tier: Tier, share: bool, operation: Operation) -> DumpResult:
        with recorded(
            run_log=self.run_log,
            clock=self.clock,
            identifier=database.identifier,
            operation=operation,
        ) as recording:
            result = self._dump(database, tier, share)
            recording.backup = result.backup
            if result.error is not None:
                recording.failed(result.error)
        return result

    def _dump(self, database: Database, tier: Tier, share: bool) -> DumpResult:
        try:
            with self.locks.hold(database.identifier):
                return self._hooked(database, tier, share)
        except ControllerError as error:  # busy: no command runs
            return DumpResult(database=database, error=error)

    def _hooked(self, database: Database, tier: Tier, share: bool) -> DumpResult:
        """Back up ``database`` between its commands (see :mod:`.hooks`)."""
        try:
            self.hooks.before(database)
        except HookError as error:
            result = DumpResult(database=database, error=skipped(error))
        else:
            result = self._take(database, tier, share)
        name = result.backup.name if result.backup is not None else None
        said = one_line(result.error) if result.error is not None else None
        try:
            self.hooks.after(database, Attempt(backup=name, error=said))
        except HookError as error:
            return attrs.evolve(result, error=after_failed(error, backup=name, first=result.error))
        return result

    def _take(self, database: Database, tier: Tier, share: bool) -> DumpResult:
        try:
            backup = self.writer.write(database, tier)
        except ControllerError as error:
            return DumpResult(database=database, error=error)
        if not share:
            return DumpResult(database=database, backup=backup)
        try:
            copy = self.shared.share(database.identifier, backup.name)
        except ControllerError as error:
            return DumpResult(database=database, backup=backup, error=error)
        return DumpResult(database=database, backup=backup, shared_copy=copy)
