"""``verify``: prove that backups are intact, and (with ``--restore``) that they restore."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import PurePath

import attrs

from pg_backup_manager.domain.backups.ports import ArchiveChecker
from pg_backup_manager.domain.errors import (
    BackupNotFoundError,
    ControllerError,
    IntegrityError,
    ToolError,
)
from pg_backup_manager.domain.history import Operation
from pg_backup_manager.domain.model import ArchiveTable, Database, TableName
from pg_backup_manager.domain.names import BackupName
from pg_backup_manager.domain.ports import BackupReader, Clock, Locks, RunRecorder
from pg_backup_manager.domain.recording import recorded
from pg_backup_manager.domain.restore.checks import verify_archive, verify_checksum
from pg_backup_manager.domain.restore.ports import Restorer, RowCounter, ServerDatabases
from pg_backup_manager.domain.restore.recovery import recover_leftovers, scratch_names
from pg_backup_manager.domain.restore.scratch import LeftoverPlan, Purpose


@attrs.frozen(kw_only=True)
class Check:
    """The verdict on one backup: ``problem`` is None when it passed.

    ``tables`` is the number of tables whose rows were counted (``--restore``).
    """

    name: BackupName
    problem: str | None = None
    tables: int | None = None

    @property
    def passed(self) -> bool:
        """Return whether the backup passed every check asked for."""
        return self.problem is None


@attrs.frozen(kw_only=True)
class VerifyReport:
    """The verdicts on the backups of one database, and what was recovered first."""

    database: Database
    checks: tuple[Check, ...]
    leftovers: LeftoverPlan = attrs.field(factory=LeftoverPlan)


@attrs.frozen(kw_only=True)
class Verify:
    """Checks backups: read to the end by ``pg_restore``, compared with their SHA-256
    (and their globals with theirs); with ``restore``, also loaded into a scratch
    database and their rows counted."""

    catalog: BackupReader
    checker: ArchiveChecker
    locks: Locks
    clock: Clock
    server: ServerDatabases
    restorer: Restorer
    counter: RowCounter
    run_log: RunRecorder

    def __call__(
        self, databases: Sequence[Database], *, backup: str | None = None, restore: bool = False
    ) -> list[VerifyReport]:
        """Check one backup of each of ``databases`` (``backup``), or all of them, newest first.

        With ``restore``, what a killed restore or verify left on the server is
        recovered first, and each backup is restored into a scratch database
        on the same server (dropped afterwards) and the rows of every table
        counted against the archive's.

        Raises:
            InvalidBackupNameError, BackupNotFoundError: ``backup`` names no backup.
            BusyError: another operation holds a database's lock.
            ControllerError: the server cannot be reached or refuses the scratch
                database (no backup is judged on that).
        """
        return [
            report
            for database in databases
            for report in self.one(database, backup=backup, restore=restore)
        ]

    def one(
        self, database: Database, *, backup: str | None = None, restore: bool = False
    ) -> list[VerifyReport]:
        """Check the backups of ``database``; see :meth:`__call__`."""
        return [self._database(database, backup, restore)]

    def _database(self, database: Database, backup: str | None, restore: bool) -> VerifyReport:
        with (
            recorded(
                run_log=self.run_log,
                clock=self.clock,
                identifier=database.identifier,
                operation=Operation.VERIFY,
            ) as recording,
            self.locks.hold(database.identifier),
        ):
            if backup is not None:
                names = [BackupName.parse(backup)]
                self._exists(database, names[0])
            else:
                names = [b.name for b in self.catalog.backups(database.identifier)]
            leftovers = LeftoverPlan()
            if restore:
                leftovers = recover_leftovers(database=database, server=self.server)
            checks = tuple(self._check(database, name, restore) for name in names)
            failed = [check for check in checks if not check.passed]
            if failed:
                first = failed[0]
                recording.failed(f"{len(failed)} backup(s) failed; {first.name}: {first.problem}")
        return VerifyReport(database=database, checks=checks, leftovers=leftovers)

    def _exists(self, database: Database, name: BackupName) -> None:
        """Raise BackupNotFoundError if there is no backup ``name``; a checksum file that
        cannot be read is the verdict's business, not an error of the command."""
        try:
            self.catalog.archive(database.identifier, name)
        except BackupNotFoundError:
            raise
        except ControllerError:
            return

    def _check(self, database: Database, name: BackupName, restore: bool) -> Check:
        try:
            stored = self.catalog.archive(database.identifier, name)
            verify_archive(stored, checker=self.checker)
            self._check_globals(database, name)
        except ToolError:
            raise  # pg_restore missing or timed out: the tools failed, not the backup
        except ControllerError as error:
            # Damaged, gone, or its checksum file unreadable: nothing proves this
            # backup; the others go on.
            return Check(name=name, problem=str(error))
        if stored.checksum is None:
            return Check(
                name=name,
                problem="no checksum file: the archive reads, but nothing proves its bytes "
                "unchanged",
            )
        if not restore:
            return Check(name=name)
        return self._restore_and_count(database, name, stored.path)

    def _check_globals(self, database: Database, name: BackupName) -> None:
        """Compare the backup's globals file, if it has one, with its checksum."""
        try:
            stored = self.catalog.globals(database.identifier, name)
        except BackupNotFoundError:
            return  # made before globals were saved
        verify_checksum(stored, checker=self.checker)

    def _restore_and_count(self, database: Database, name: BackupName, archive: PurePath) -> Check:
        names = scratch_names(database)
        scratch = names.name(Purpose.VERIFY, self.clock.now())
        self.server.drop(database, scratch)
        self.server.create(database, scratch, comment=names.marker(Purpose.VERIFY))
        try:
            try:
                self.restorer.restore(database, into=scratch, archive=archive, owners=False)
            except ToolError as error:
                return Check(name=name, problem=f"restore failed: {error}")
            restored = self.counter.row_counts(database, scratch)
        finally:
            self.server.drop(database, scratch)
        try:
            in_archive = self.checker.row_counts(archive)
        except IntegrityError as error:
            return Check(name=name, problem=str(error))
        wrong = row_count_differences(in_archive, restored)
        if wrong:
            return Check(
                name=name, problem="row counts differ after restore: " + "; ".join(wrong[:5])
            )
        return Check(name=name, tables=len(in_archive))


def row_count_differences(
    in_archive: Sequence[ArchiveTable], restored: Mapping[TableName, int]
) -> list[str]:
    """Return a line for each table of the archive whose restored rows differ, or [].

    An archive entry is labelled as ``pg_restore --list`` prints it, ``<schema>
    <table> <owner>`` with line breaks as spaces; it belongs to the restored
    table whose schema and name start that label. Names are compared whole,
    never parsed out of SQL.
    """
    wrong = []
    for table in in_archive:
        candidates = [
            (name, rows)
            for name, rows in restored.items()
            if table.label.startswith(f"{_listed(name.schema)} {_listed(name.table)} ")
        ]
        if not candidates:
            wrong.append(f"{table.label}: missing after restore, archive has {table.rows} rows")
        elif all(rows != table.rows for _, rows in candidates):
            name, rows = candidates[0]
            wrong.append(f"{name}: {rows} rows, archive has {table.rows}")
    return wrong


def _listed(name: str) -> str:
    """Return ``name`` as ``pg_restore --list`` prints it: line breaks become spaces."""
    return name.replace("\n", " ").replace("\r", " ")
