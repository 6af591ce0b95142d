"""``restore`` and ``restore-from-shared``: put a backup back, losing nothing.

The archive's checksum is checked first (and that of the globals, with
``--with-globals``); what a killed run left is recovered; the current content is
saved as a backup (the safety dump); the roles the server lacks are created from
the globals, if asked; the archive goes into a scratch database that gets the
target's properties (or, for a target that does not exist yet, those the archive
holds of its database); only then does it take the target's name
(:mod:`~pg_backup_manager.domain.restore.swap`).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import PurePath

import attrs

from pg_backup_manager.domain.backups.ports import ArchiveChecker, SharedCopies
from pg_backup_manager.domain.backups.writing import BackupWriter
from pg_backup_manager.domain.errors import ControllerError
from pg_backup_manager.domain.history import Operation
from pg_backup_manager.domain.model import Database
from pg_backup_manager.domain.names import Backup, BackupName, StoredArchive, Tier
from pg_backup_manager.domain.ports import BackupReader, Clock, Locks, RunRecorder
from pg_backup_manager.domain.recording import Recording, recorded
from pg_backup_manager.domain.restore.checks import verify_archive, verify_checksum
from pg_backup_manager.domain.restore.globals import RolePlan, plan_roles
from pg_backup_manager.domain.restore.ports import (
    GlobalsReader,
    PropertyKeeper,
    Restorer,
    Roles,
    ServerDatabases,
)
from pg_backup_manager.domain.restore.recovery import recover_leftovers
from pg_backup_manager.domain.restore.scratch import LeftoverPlan
from pg_backup_manager.domain.restore.swap import SwapPlan, plan_swap


@attrs.frozen(kw_only=True)
class RestoreReport:
    """What one restore loaded (and, of a partial backup, what it left out), what it
    recovered first, and the safety backup it made."""

    database: Database
    archive: PurePath
    checksum_verified: bool
    leftovers: LeftoverPlan
    safety_backup: Backup | None = None
    roles: RolePlan | None = None
    # The archive was partial: what it left out (empty: unknown); None: it was whole.
    left_out: tuple[str, ...] | None = None

    @property
    def exit_code(self) -> int:
        """Return 0: a restore that failed raised instead, the database as it was."""
        return 0


@attrs.frozen(kw_only=True)
class RestoreResult:
    """One database of ``restore-from-shared``: its report, or why it failed."""

    database: Database
    report: RestoreReport | None = None
    error: ControllerError | None = None


@attrs.frozen(kw_only=True)
class Restore:
    """Replaces a database's content with an archive; see the module."""

    catalog: BackupReader
    shared: SharedCopies
    checker: ArchiveChecker
    locks: Locks
    clock: Clock
    server: ServerDatabases
    properties: PropertyKeeper
    restorer: Restorer
    writer: BackupWriter
    run_log: RunRecorder
    roles: Roles
    globals_reader: GlobalsReader

    def backup(
        self,
        database: Database,
        backup: str,
        *,
        owners: bool = True,
        safety_dump: bool = True,
        with_globals: bool = False,
    ) -> RestoreReport:
        """Replace ``database``'s content with the backup called ``backup``; with
        ``with_globals``, first create the roles its globals have and the server lacks.

        Raises:
            InvalidBackupNameError: ``backup`` is not a bare backup name.
            BackupNotFoundError: there is no such backup of ``database`` (or, with
                ``with_globals``, it has no globals file).
            IntegrityError: the archive or its globals fail their checksum or
                cannot be read.
            BusyError: another operation holds the database's lock.
            ControllerError: the safety dump, the server or the restore failed;
                the database is as it was.
        """
        name = BackupName.parse(backup)
        with (
            self._recorded(database, Operation.RESTORE) as recording,
            self.locks.hold(database.identifier, create=safety_dump),
        ):
            stored = self.catalog.archive(database.identifier, name)
            recording.archive, recording.sha256 = str(name), stored.checksum
            recording.left_out = self._left_out(database, name)
            roles = self.catalog.globals(database.identifier, name) if with_globals else None
            report = self._restore(database, stored, roles, owners=owners, safety_dump=safety_dump)
            return attrs.evolve(report, left_out=recording.left_out)

    def _left_out(self, database: Database, name: BackupName) -> tuple[str, ...] | None:
        """Return what backup ``name`` left out (None: it is whole)."""
        for backup in self.catalog.backups(database.identifier):
            if backup.name == name:
                return backup.left_out if backup.partial else None
        return None

    def shared_copies(
        self,
        databases: Sequence[Database],
        *,
        owners: bool = True,
        safety_dump: bool = True,
        with_globals: bool = False,
    ) -> list[RestoreResult]:
        """Replace each database's content with its shared ``file.dump`` (with
        ``with_globals``, after the roles of ``file.globals.sql``), going on past
        failures (each as :meth:`backup` would raise it)."""
        results = []
        for database in databases:
            try:
                with (
                    self._recorded(database, Operation.RESTORE_FROM_SHARED) as recording,
                    self.locks.hold(database.identifier, create=safety_dump),
                ):
                    stored = self.shared.archive(database.identifier)
                    recording.archive, recording.sha256 = stored.path.name, stored.checksum
                    recording.left_out = self.shared.left_out(database.identifier)
                    roles = self.shared.globals(database.identifier) if with_globals else None
                    report = self._restore(
                        database, stored, roles, owners=owners, safety_dump=safety_dump
                    )
                    report = attrs.evolve(report, left_out=recording.left_out)
            except ControllerError as error:
                results.append(RestoreResult(database=database, error=error))
            else:
                results.append(RestoreResult(database=database, report=report))
        return results

    def _recorded(
        self, database: Database, operation: Operation
    ) -> AbstractContextManager[Recording]:
        return recorded(
            run_log=self.run_log,
            clock=self.clock,
            identifier=database.identifier,
            operation=operation,
        )

    def _restore(
        self,
        database: Database,
        stored: StoredArchive,
        stored_globals: StoredArchive | None,
        *,
        owners: bool,
        safety_dump: bool,
    ) -> RestoreReport:
        verify_archive(stored, checker=self.checker, thorough=False)
        statements = None
        if stored_globals is not None:
            verify_checksum(stored_globals, checker=self.checker)
            statements = self.globals_reader.read(stored_globals.path)
        leftovers = recover_leftovers(database=database, server=self.server)
        # Decided after the recovery: content it put back is content to save, all of it
        # (whole: what a partial backup leaves out is replaced too).
        exists = self.server.exists(database, database.dbname)
        saving = safety_dump and exists
        safety = self.writer.write(database, Tier.DAILY, whole=True) if saving else None
        roles = None
        if statements is not None:
            existing_roles, existing_databases = self.roles.cluster_names(database)
            roles = plan_roles(
                statements, existing_roles=existing_roles, existing_databases=existing_databases
            )
            if not roles.changes_nothing:
                self.roles.create_roles(database, roles.statements, secrets=roles.secrets)
        plan = plan_swap(database, target_exists=exists, now=self.clock.now())
        try:
            self._swap(database, plan, stored.path, owners=owners)
        except ControllerError as error:
            if roles is None or roles.changes_nothing:
                raise
            # Roles are the cluster's: the failed load cannot take them back.
            raise type(error)(
                f"{error} (the roles created from the globals stay: {', '.join(roles.created)})"
            ) from None
        return RestoreReport(
            database=database,
            archive=stored.path,
            checksum_verified=stored.checksum is not None,
            leftovers=leftovers,
            safety_backup=safety,
            roles=roles,
        )

    def _swap(self, database: Database, plan: SwapPlan, archive: PurePath, *, owners: bool) -> None:
        """Carry out ``plan``: any failure before the end puts the old database back
        and drops the scratch one, so the target is as it was."""
        properties = self.properties.properties(database, plan.target)
        if properties is None:
            # No target (a new server): the database becomes what the archive
            # says it was, as with pg_restore --create, before it takes the name.
            properties = self.restorer.archived_properties(archive, owners=owners)
        self.server.drop(database, plan.scratch)
        self.server.create(database, plan.scratch, like=properties, comment=plan.marker)
        try:
            self.restorer.restore(database, into=plan.scratch, archive=archive, owners=owners)
            self.properties.apply(database, plan.scratch, properties)
            try:
                if plan.aside is not None:
                    self.server.rename(database, plan.target, plan.aside)
                self.server.rename(database, plan.scratch, plan.target)
            except BaseException:
                self._put_back(database, plan)
                raise
        except BaseException:
            self.server.drop(database, plan.scratch)
            raise
        if plan.aside is not None:
            self.server.drop(database, plan.aside)

    def _put_back(self, database: Database, plan: SwapPlan) -> None:
        """Undo a swap interrupted anywhere between its renames: the target, if gone,
        gets the old content back (a rename that did commit may have reported a failure)."""
        if plan.aside is None or self.server.exists(database, plan.target):
            return
        if self.server.exists(database, plan.aside):
            self.server.rename(database, plan.aside, plan.target)
