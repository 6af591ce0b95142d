"""Use cases that put a backup back: restore and restore-from-shared.

A restore never loses data: the archive's checksum and readability are checked
first, the current content is saved as a backup (the safety dump), and the
archive is loaded into a scratch database; only a complete load replaces the
target (renamed aside, then dropped).
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from pathlib import PurePath

import attrs

from pg_backup_manager.domain.backup import BackupPorts, write_backup
from pg_backup_manager.domain.errors import IntegrityError
from pg_backup_manager.domain.model import Backup, BackupName, Database, Tier
from pg_backup_manager.domain.ports import DatabaseServer, Restorer

log = logging.getLogger(__name__)

_MAX_NAME_BYTES = 63
_STAMP = re.compile(r"\d{14}")


@attrs.frozen(kw_only=True)
class RestoreOutcome:
    """What a restore loaded, and the safety backup of what it replaced (if any)."""

    archive: PurePath
    safety_backup: Backup | None
    checksum_verified: bool


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
    safety = None
    if safety_dump and restore_ports.server.exists(database, database.dbname):
        safety = write_backup(database=database, tier=Tier.DAILY, ports=ports)
    replace_content(
        database=database,
        archive=archive,
        server=restore_ports.server,
        restorer=restore_ports.restorer,
        now=ports.clock.now(),
        owners=owners,
    )
    return RestoreOutcome(
        archive=archive, safety_backup=safety, checksum_verified=expected is not None
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


def replace_content(
    *,
    database: Database,
    archive: PurePath,
    server: DatabaseServer,
    restorer: Restorer,
    now: datetime,
    owners: bool,
) -> None:
    """Make ``database.dbname`` hold exactly the content of ``archive``.

    Only the content changes: the database keeps its owner, privileges,
    settings, comment, encoding and locale. The archive goes into a scratch
    database made like the target; only when that load succeeded is the old
    database renamed aside, the scratch one renamed into its place and given
    the old one's properties, and the old one dropped. Any failure before the
    end of the swap puts the old database back and drops the scratch one.
    """
    target = database.dbname
    clear_leftovers(database=database, server=server)
    scratch = scratch_name(target, "restore", now)
    aside = scratch_name(target, "replaced", now)
    properties = server.properties(database, target)
    server.drop(database, scratch)
    server.create(database, scratch, like=properties)
    try:
        restorer.restore(database, into=scratch, archive=archive, owners=owners)
        if properties is not None:
            server.rename(database, target, aside)
        swapped = False
        try:
            server.rename(database, scratch, target)
            swapped = True
            if properties is not None:
                server.apply(database, properties)
        except BaseException:
            if swapped:
                server.rename(database, target, scratch)
            if properties is not None:
                server.rename(database, aside, target)
            raise
    except BaseException:
        server.drop(database, scratch)
        raise
    if properties is not None:
        server.drop(database, aside)


def clear_leftovers(*, database: Database, server: DatabaseServer) -> None:
    """Undo what a restore or verify killed half way (SIGKILL, a crash) left behind.

    Scratch databases (``<db>_restore_<time>``, ``<db>_verify_<time>``) only ever
    hold a copy being loaded: they are dropped. A database set aside by a swap
    (``<db>_replaced_<time>``) holds the old content: if the target is missing
    (killed between the two renames) the newest one is renamed back; otherwise
    it is left alone and reported, never dropped.
    """
    target = database.dbname
    epoch = datetime(2000, 1, 1, tzinfo=UTC)
    prefixes = {
        purpose: scratch_name(target, purpose, epoch).removesuffix(f"{epoch:%Y%m%d%H%M%S}")
        for purpose in ("restore", "verify", "replaced")
    }
    found = {
        purpose: [
            name
            for name in server.names(database, prefix=prefix)
            if _STAMP.fullmatch(name.removeprefix(prefix))
        ]
        for purpose, prefix in prefixes.items()
    }
    for name in found["restore"] + found["verify"]:
        log.warning("%s: dropping %s, left by an interrupted run", database.identifier, name)
        server.drop(database, name)
    asides = sorted(found["replaced"])
    if asides and not server.exists(database, target):
        log.warning("%s: %s is missing; putting back %s", database.identifier, target, asides[-1])
        server.rename(database, asides.pop(), target)
    for name in asides:
        log.warning(
            "%s: %s holds content an interrupted restore replaced; drop it when you no "
            "longer need it",
            database.identifier,
            name,
        )


def scratch_name(target: str, purpose: str, at: datetime) -> str:
    """Return a database name for a temporary copy of ``target``, at most 63 bytes."""
    suffix = f"_{purpose}_{at:%Y%m%d%H%M%S}"
    head = target.encode()[: _MAX_NAME_BYTES - len(suffix)].decode(errors="ignore")
    return head + suffix
