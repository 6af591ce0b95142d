"""Use cases that put a backup back: restore and restore-from-shared.

A restore never loses data: the archive's checksum and readability are checked
first, the current content is saved as a backup (the safety dump), and the
archive is loaded into a scratch database; only a complete load replaces the
target (renamed aside, then dropped). What a killed run left is recovered
first, so the safety dump saves content that recovery put back.
"""

from __future__ import annotations

import logging
from pathlib import PurePath

import attrs

from pg_backup_manager.domain.backup import BackupPorts, write_backup
from pg_backup_manager.domain.errors import IntegrityError
from pg_backup_manager.domain.model import Backup, BackupName, Database, Tier
from pg_backup_manager.domain.ports import DatabaseServer, Restorer
from pg_backup_manager.domain.scratch import LeftoverPlan
from pg_backup_manager.domain.swap import recover_leftovers, replace_content

log = logging.getLogger(__name__)


@attrs.frozen(kw_only=True)
class RestoreOutcome:
    """What a restore loaded, and the safety backup of what it replaced (if any)."""

    archive: PurePath
    safety_backup: Backup | None
    checksum_verified: bool
    leftovers: LeftoverPlan = attrs.field(factory=LeftoverPlan)


@attrs.frozen(kw_only=True)
class RestorePorts:
    """The ports a restore works through, besides those of backups."""

    server: DatabaseServer
    restorer: Restorer


def restore_backup(
    *,
    database: Database,
    backup: str,
    ports: BackupPorts,
    restore_ports: RestorePorts,
    owners: bool = True,
    safety_dump: bool = True,
) -> RestoreOutcome:
    """Replace ``database``'s content with the backup called ``backup``.

    Raises:
        InvalidBackupNameError: ``backup`` is not a bare backup name.
        BackupNotFoundError: there is no such backup of ``database``.
        IntegrityError: the archive fails its checksum or cannot be read.
        BusyError: another operation holds the database's lock.
        ControllerError: the safety dump, the server or the restore failed;
            the database is as it was.
    """
    name = BackupName.parse(backup)
    with ports.locks.hold(database.identifier):
        archive = ports.store.path_of(database.identifier, name)
        expected = ports.store.checksum_of(database.identifier, name)
        return _restore(
            database=database,
            archive=archive,
            expected=expected,
            ports=ports,
            restore_ports=restore_ports,
            owners=owners,
            safety_dump=safety_dump,
        )


def restore_shared(
    *,
    database: Database,
    ports: BackupPorts,
    restore_ports: RestorePorts,
    owners: bool = True,
    safety_dump: bool = True,
) -> RestoreOutcome:
    """Replace ``database``'s content with its shared ``file.dump``.

    Raises:
        BackupNotFoundError: there is no shared archive for ``database``.
        IntegrityError, BusyError, ControllerError: as :func:`restore_backup`.
    """
    with ports.locks.hold(database.identifier):
        archive = ports.store.shared_archive(database.identifier)
        expected = ports.store.shared_checksum(database.identifier)
        return _restore(
            database=database,
            archive=archive,
            expected=expected,
            ports=ports,
            restore_ports=restore_ports,
            owners=owners,
            safety_dump=safety_dump,
        )


def _restore(
    *,
    database: Database,
    archive: PurePath,
    expected: str | None,
    ports: BackupPorts,
    restore_ports: RestorePorts,
    owners: bool,
    safety_dump: bool,
) -> RestoreOutcome:
    verify_archive(archive, expected=expected, ports=ports, thorough=False)
    server = restore_ports.server
    leftovers = recover_leftovers(database=database, server=server)
    # Decided after the recovery: content it put back is content to save.
    safety = None
    if safety_dump and server.exists(database, database.dbname):
        safety = write_backup(database=database, tier=Tier.DAILY, ports=ports)
    replace_content(
        database=database,
        archive=archive,
        server=server,
        restorer=restore_ports.restorer,
        now=ports.clock.now(),
        owners=owners,
    )
    return RestoreOutcome(
        archive=archive,
        safety_backup=safety,
        checksum_verified=expected is not None,
        leftovers=leftovers,
    )


def verify_archive(
    archive: PurePath, *, expected: str | None, ports: BackupPorts, thorough: bool = True
) -> None:
    """Check that ``archive`` matches its recorded checksum and reads to the end.

    With ``thorough`` false and a checksum to compare, only the checksum is
    checked (a restore reads the archive fully anyway, into a scratch database).
    An archive without a checksum (made before checksums existed) passes on the
    archive check alone, with a warning.

    Raises:
        IntegrityError: it cannot be read, or its SHA-256 differs from ``expected``.
    """
    if expected is None or thorough:
        actual = ports.checker.check(archive)
    else:
        actual = ports.checker.digest(archive)
    if expected is None:
        log.warning("%s has no checksum file: checked by pg_restore only", archive)
    elif actual != expected:
        raise IntegrityError(
            f"{archive} is corrupt: its SHA-256 is {actual[:12]}..., its checksum file says "
            f"{expected[:12]}...: do not trust it; pick another backup ('controller list')"
        )
