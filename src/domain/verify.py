"""``verify``: prove that backups are intact, and (with ``--restore``) that they restore."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import PurePath

import attrs

from pg_backup_manager.domain.backup import BackupPorts
from pg_backup_manager.domain.errors import (
    BackupNotFoundError,
    ControllerError,
    IntegrityError,
    ToolError,
)
from pg_backup_manager.domain.model import ArchiveTable, BackupName, Database, TableName
from pg_backup_manager.domain.restore import RestorePorts, verify_archive
from pg_backup_manager.domain.scratch import LeftoverPlan, Purpose
from pg_backup_manager.domain.swap import recover_leftovers, scratch_names


@attrs.frozen(kw_only=True)
class Check:
    """The verdict on one backup: ``problem`` is None when it passed."""

    name: BackupName
    problem: str | None = None
    detail: str = ""

    @property
    def passed(self) -> bool:
        """Return whether the backup passed every check asked for."""
        return self.problem is None


@attrs.frozen(kw_only=True)
class VerifyReport:
    """The verdicts on the backups of one database, and what was recovered first."""

    checks: tuple[Check, ...]
    leftovers: LeftoverPlan = attrs.field(factory=LeftoverPlan)


def verify_backups(
    *,
    database: Database,
    ports: BackupPorts,
    backup: str | None = None,
    restore_ports: RestorePorts | None = None,
) -> VerifyReport:
    """Check one backup of ``database`` (or all of them, newest first).

    Each is read to the end by ``pg_restore`` and compared with its recorded
    SHA-256. With ``restore_ports``, what a killed restore or verify left on
    the server is recovered first, and each backup is also restored into a
    scratch database on the same server (dropped afterwards) and the rows of
    every table are counted against the archive's.

    Raises:
        InvalidBackupNameError, BackupNotFoundError: ``backup`` names no backup.
        BusyError: another operation holds the database's lock.
        ControllerError: the server cannot be reached or refuses to create the
            scratch database (no backup is judged on that).
    """
    with ports.locks.hold(database.identifier):
        if backup is not None:
            names = [BackupName.parse(backup)]
            ports.store.path_of(database.identifier, names[0])
        else:
            names = [b.name for b in ports.store.backups(database.identifier)]
        leftovers = LeftoverPlan()
        if restore_ports is not None:
            leftovers = recover_leftovers(database=database, server=restore_ports.server)
        checks = tuple(_check(database, name, ports, restore_ports) for name in names)
        return VerifyReport(checks=checks, leftovers=leftovers)


def _check(
    database: Database, name: BackupName, ports: BackupPorts, restore_ports: RestorePorts | None
) -> Check:
    try:
        archive = ports.store.path_of(database.identifier, name)
        expected = ports.store.checksum_of(database.identifier, name)
        verify_archive(archive, expected=expected, ports=ports)
    except (IntegrityError, BackupNotFoundError) as error:
        return Check(name=name, problem=str(error))
    except ControllerError as error:
        # An unreadable checksum file: nothing proves this backup; the others go on.
        return Check(name=name, problem=str(error))
    if expected is None:
        return Check(
            name=name,
            problem="no checksum file: the archive reads, but nothing proves its bytes unchanged",
        )
    detail = "checksum and archive ok"
    if restore_ports is None:
        return Check(name=name, detail=detail)
    wrong = _restore_and_count(database, archive, ports, restore_ports)
    if isinstance(wrong, str):
        return Check(name=name, problem=wrong)
    return Check(name=name, detail=f"{detail}; restored {wrong} tables, row counts match")


def _restore_and_count(
    database: Database, archive: PurePath, ports: BackupPorts, restore_ports: RestorePorts
) -> int | str:
    """Return the number of tables whose rows match, or what went wrong with the backup."""
    server = restore_ports.server
    names = scratch_names(database)
    scratch = names.name(Purpose.VERIFY, ports.clock.now())
    server.drop(database, scratch)
    server.create(database, scratch, comment=names.marker(Purpose.VERIFY))
    try:
        try:
            restore_ports.restorer.restore(database, into=scratch, archive=archive, owners=False)
        except ToolError as error:
            return f"restore failed: {error}"
        restored = server.row_counts(database, scratch)
    finally:
        server.drop(database, scratch)
    try:
        in_archive = ports.checker.row_counts(archive)
    except IntegrityError as error:
        return str(error)
    wrong = row_count_differences(in_archive, restored)
    if wrong:
        return "row counts differ after restore: " + "; ".join(wrong[:5])
    return len(in_archive)


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
