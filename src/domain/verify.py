"""``verify``: prove that backups are intact, and (with ``--restore``) that they restore."""

from __future__ import annotations

from pathlib import PurePath

import attrs

from pg_backup_manager.domain.backup import BackupPorts
from pg_backup_manager.domain.errors import ControllerError, IntegrityError
from pg_backup_manager.domain.model import BackupName, Database
from pg_backup_manager.domain.restore import (
    RestorePorts,
    clear_leftovers,
    scratch_name,
    verify_archive,
)


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


def verify_backups(
    *,
    database: Database,
    ports: BackupPorts,
    backup: str | None = None,
    restore_ports: RestorePorts | None = None,
) -> list[Check]:
    """Check one backup of ``database`` (or all of them, newest first).

    Each is read to the end by ``pg_restore`` and compared with its recorded
    SHA-256. With ``restore_ports``, each is also restored into a scratch
    database on the same server (``<db>_verify_<time>``, dropped afterwards) and
    the rows of every table are counted against the archive's.

    Raises:
        InvalidBackupNameError, BackupNotFoundError: ``backup`` names no backup.
        BusyError: another operation holds the database's lock.
    """
    with ports.locks.hold(database.identifier):
        if backup is not None:
            names = [BackupName.parse(backup)]
            ports.store.path_of(database.identifier, names[0])
        else:
            names = [b.name for b in ports.store.backups(database.identifier)]
        return [_check(database, name, ports, restore_ports) for name in names]


def _check(
    database: Database, name: BackupName, ports: BackupPorts, restore_ports: RestorePorts | None
) -> Check:
    archive = ports.store.path_of(database.identifier, name)
    try:
        expected = ports.store.checksum_of(database.identifier, name)
        verify_archive(archive, expected=expected, ports=ports)
    except IntegrityError as error:
        return Check(name=name, problem=str(error))
    if expected is None:
        return Check(
            name=name,
            problem="no checksum file: the archive reads, but nothing proves its bytes unchanged",
        )
    detail = "checksum and archive ok"
    if restore_ports is None:
        return Check(name=name, detail=detail)
    try:
        tables = _restore_and_count(database, archive, ports, restore_ports)
    except ControllerError as error:
        return Check(name=name, problem=f"restore failed: {error}")
    if isinstance(tables, str):
        return Check(name=name, problem=tables)
    return Check(name=name, detail=f"{detail}; restored {tables} tables, row counts match")


def _restore_and_count(
    database: Database, archive: PurePath, ports: BackupPorts, restore_ports: RestorePorts
) -> int | str:
    server = restore_ports.server
    clear_leftovers(database=database, server=server)
    scratch = scratch_name(database.dbname, "verify", ports.clock.now())
    server.drop(database, scratch)
    server.create(database, scratch)
    try:
        restore_ports.restorer.restore(database, into=scratch, archive=archive, owners=False)
        restored = server.row_counts(database, scratch)
    finally:
        server.drop(database, scratch)
    expected = ports.checker.row_counts(archive)
    wrong = [
        f"{table}: {restored.get(table, 'missing')} rows, archive has {count}"
        for table, count in sorted(expected.items())
        if restored.get(table) != count
    ]
    if wrong:
        return "row counts differ after restore: " + "; ".join(wrong[:5])
    return len(expected)
