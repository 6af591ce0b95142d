"""Use cases that put a backup back: restore and restore-from-shared.

A restore never leaves the target without data if it fails: the archive is
loaded into a scratch database first, and only a complete load replaces the
target (renamed aside, then dropped).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import PurePath

from pg_backup_manager.domain.model import BackupName, Database
from pg_backup_manager.domain.ports import BackupStore, Clock, DatabaseServer, Restorer

_MAX_NAME_BYTES = 63


def restore_backup(
    *,
    database: Database,
    backup: str,
    store: BackupStore,
    server: DatabaseServer,
    restorer: Restorer,
    clock: Clock,
    owners: bool = True,
) -> BackupName:
    """Replace ``database``'s content with the backup called ``backup``; return its name.

    Raises:
        InvalidBackupNameError: ``backup`` is not a bare backup name.
        BackupNotFoundError: there is no such backup of ``database``.
        ToolError: the server or the restore failed; the database is as it was.
    """
    name = BackupName.parse(backup)
    archive = store.path_of(database.identifier, name)
    replace_content(
        database=database,
        archive=archive,
        server=server,
        restorer=restorer,
        clock=clock,
        owners=owners,
    )
    return name


def restore_shared(
    *,
    database: Database,
    store: BackupStore,
    server: DatabaseServer,
    restorer: Restorer,
    clock: Clock,
    owners: bool = True,
) -> PurePath:
    """Replace ``database``'s content with its shared ``file.dump``; return that path.

    Raises:
        BackupNotFoundError: there is no shared archive for ``database``.
        ToolError: the server or the restore failed; the database is as it was.
    """
    archive = store.shared_archive(database.identifier)
    replace_content(
        database=database,
        archive=archive,
        server=server,
        restorer=restorer,
        clock=clock,
        owners=owners,
    )
    return archive


def replace_content(
    *,
    database: Database,
    archive: PurePath,
    server: DatabaseServer,
    restorer: Restorer,
    clock: Clock,
    owners: bool,
) -> None:
    """Make ``database.dbname`` hold exactly the content of ``archive``.

    The archive goes into a scratch database; only when that load succeeded is
    the old database renamed aside, the scratch one renamed into its place, and
    the old one dropped. On any failure before the swap the target is untouched
    and the scratch database is dropped.
    """
    target = database.dbname
    scratch = scratch_name(target, "restore", clock.now())
    aside = scratch_name(target, "replaced", clock.now())
    server.drop(database, scratch)
    server.create(database, scratch)
    try:
        restorer.restore(database, into=scratch, archive=archive, owners=owners)
        existed = server.exists(database, target)
        if existed:
            server.rename(database, target, aside)
        try:
            server.rename(database, scratch, target)
        except BaseException:
            if existed:
                server.rename(database, aside, target)
            raise
    except BaseException:
        server.drop(database, scratch)
        raise
    if existed:
        server.drop(database, aside)


def scratch_name(target: str, purpose: str, at: datetime) -> str:
    """Return a database name for a temporary copy of ``target``, at most 63 bytes."""
    suffix = f"_{purpose}_{at:%Y%m%d%H%M%S}"
    head = target.encode()[: _MAX_NAME_BYTES - len(suffix)].decode(errors="ignore")
    return head + suffix
