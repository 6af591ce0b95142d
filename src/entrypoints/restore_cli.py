"""``controller``'s commands that put backups back or prove they would: restore,
restore-from-shared, verify, and resetwal (the last resort before one)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

import click
from dependency_injector.wiring import Provide, inject

from pg_backup_manager.domain.errors import worst_exit_code
from pg_backup_manager.entrypoints.cli import _ALL_HELP, chosen, cli, echo, exit_with
from pg_backup_manager.entrypoints.containers import Container
from pg_backup_manager.entrypoints.rendering import pitr_recover
from pg_backup_manager.entrypoints.rendering import restore as render_restore

if TYPE_CHECKING:  # the container imports each use case when a command asks for it
    from pg_backup_manager.domain.every_database import StoredDatabases
    from pg_backup_manager.domain.model import Config
    from pg_backup_manager.domain.offsite.from_offsite import FromOffsite
    from pg_backup_manager.domain.pitr.recovery.verifying import VerifyPitr
    from pg_backup_manager.domain.restore.from_shared import RestoreFromShared
    from pg_backup_manager.domain.restore.restoring import Restore
    from pg_backup_manager.domain.restore.verifying import Verify
    from pg_backup_manager.domain.targets import Targets
    from pg_backup_manager.domain.wal.reset import ResetWal

_NO_OWNER_HELP = "Do not restore owners and privileges (for a server without the dump's roles)."
_WITH_GLOBALS_HELP = (
    "First create the roles of the backup's globals that the server lacks "
    "(a new server); existing roles are never changed."
)
_NO_SAFETY_HELP = "Do not save the current content as a backup first."
_PITR_HELP = (
    "Instead, recover the newest base backup to the newest WAL received into a scratch "
    "directory, start a server of its major version on it, check it reached the end and "
    "answers a query, then remove it (<SERVICE>_WAL_ARCHIVE)."
)
_REMOTE_HELP = (
    "Use the off-site copy (OFFSITE_URL): downloaded beside the local backups, "
    "decrypted with ENCRYPTION_IDENTITY_FILE if it was encrypted, checked against its "
    "SHA-256, removed afterwards."
)


@cli.command()
@click.argument("database")
@click.argument("backup_file")
@click.option("--no-owner", is_flag=True, help=_NO_OWNER_HELP)
@click.option("--no-safety-dump", is_flag=True, help=_NO_SAFETY_HELP)
@click.option("--with-globals", is_flag=True, help=_WITH_GLOBALS_HELP)
@click.option("--remote", is_flag=True, help=_REMOTE_HELP)
@inject
def restore(
    database: str,
    backup_file: str,
    no_owner: bool,
    no_safety_dump: bool,
    with_globals: bool,
    remote: bool,
    targets: Targets = Provide[Container.servers.targets],
    restore: Restore = Provide[Container.restore],
    from_offsite: Callable[[], FromOffsite] = Provide[Container.from_offsite.provider],
    offsite: Callable[[], StoredDatabases] = Provide[Container.offsite.provider],
) -> None:
    """Replace DATABASE's content with BACKUP_FILE (a name shown by 'list').

    The archive's checksum and readability are checked first, the current
    content is saved as a backup, and the archive is loaded into a scratch
    database; the current database is replaced only when that load succeeded.
    With --with-globals, the roles of the backup's globals that the server
    lacks are created first (existing roles are left as they are).

    With --remote, the off-site copy of that name (OFFSITE_URL) is downloaded
    and restored the same way (exit 3 if it fails its uploaded checksum).

    Example: controller restore users file_daily_2024-07-04T09:00:00Z.dump
    """
    target = targets.one(database, offsite=offsite() if remote else None)
    owners, safety_dump = not no_owner, not no_safety_dump
    # The off-site store (boto3) is built only for --remote.
    restore_backup = from_offsite().restore_backup if remote else restore.backup
    report = restore_backup(
        target, backup_file, owners=owners, safety_dump=safety_dump, with_globals=with_globals
    )
    echo(render_restore.restore(report))
    exit_with(report.exit_code)


@cli.command(name="restore-from-shared")
@click.argument("database", required=False)
@click.option("--all", "all_", is_flag=True, help=_ALL_HELP)
@click.option("--no-owner", is_flag=True, help=_NO_OWNER_HELP)
@click.option("--no-safety-dump", is_flag=True, help=_NO_SAFETY_HELP)
@click.option("--with-globals", is_flag=True, help=_WITH_GLOBALS_HELP)
@inject
def restore_from_shared(
    database: str | None,
    all_: bool,
    no_owner: bool,
    no_safety_dump: bool,
    with_globals: bool,
    targets: Targets = Provide[Container.servers.targets],
    restore_from_shared: RestoreFromShared = Provide[Container.restore_from_shared],
) -> None:
    """Replace DATABASE's content (or --all) with its shared file.dump.

    Example: controller restore-from-shared --all
    """
    report = restore_from_shared(
        targets.named(database, all_=all_, shared=True),
        told=lambda result: echo(render_restore.restored(result)),  # each as it is done
        owners=not no_owner,
        safety_dump=not no_safety_dump,
        with_globals=with_globals,
    )
    echo(render_restore.restored_count(report))
    exit_with(report.exit_code)


@cli.command()
@click.argument("database", required=False)
@click.argument("backup_file", required=False)
@click.option("--all", "all_", is_flag=True, help=_ALL_HELP)
@click.option(
    "--restore",
    "and_restore",
    is_flag=True,
    help="Also restore each into a scratch database and compare row counts.",
)
@click.option("--remote", is_flag=True, help=_REMOTE_HELP)
@click.option("--pitr", is_flag=True, help=_PITR_HELP)
@inject
def verify(
    database: str | None,
    backup_file: str | None,
    all_: bool,
    and_restore: bool,
    remote: bool,
    pitr: bool,
    config: Config = Provide[Container.config],
    targets: Targets = Provide[Container.servers.targets],
    verify: Verify = Provide[Container.verify],
    from_offsite: Callable[[], FromOffsite] = Provide[Container.from_offsite.provider],
    verify_pitr: Callable[[], VerifyPitr] = Provide[Container.pitr.verify.provider],
    offsite: Callable[[], StoredDatabases] = Provide[Container.offsite.provider],
) -> None:
    """Check the backups of DATABASE (or --all, or one BACKUP_FILE): checksum and archive.

    With --remote, the off-site copies instead, each downloaded in turn. With
    --pitr, recover the newest base backup to the newest WAL on a scratch server.
    Exits 3 if any backup is corrupt. Example: controller verify users --restore
    """
    from pg_backup_manager.domain.restore.verify_each import verify_each  # verify alone needs it

    if all_ and backup_file is not None:
        raise click.UsageError("give a backup file with one database, not with --all")
    if pitr:
        if backup_file is not None or and_restore or remote:
            raise click.UsageError("--pitr takes no backup file, --restore or --remote")
        reports = [verify_pitr()(target) for target in chosen(config, database, all_)]
        echo(line for report in reports for line in pitr_recover.verified(report))
        exit_with(worst_exit_code(report.error for report in reports))
        return
    if remote:  # the off-site store is built for --remote alone
        copies = from_offsite()
        one = partial(copies.verify_backups, backup=backup_file, restore=and_restore)
    else:
        one = partial(verify.one, backup=backup_file, restore=and_restore)
    store = offsite() if remote else None  # built for --remote alone
    if backup_file is not None and database is not None:
        chosen_ones = [targets.one(database, offsite=store)]
    else:
        chosen_ones = targets.named(database, all_=all_, offsite=store)
    summary = verify_each(
        chosen_ones, verify=one, told=lambda reports: echo(render_restore.verify(reports))
    )
    echo(render_restore.verified(summary))
    exit_with(summary.exit_code)


@cli.command()
@click.argument("database")
@click.option("--dry-run", is_flag=True, help="Show what pg_resetwal would do (pg_resetwal -n).")
@click.option("--force", is_flag=True, help="Pass -f: reset even a cluster not shut down cleanly.")
@inject
def resetwal(
    database: str,
    dry_run: bool,
    force: bool,
    config: Config = Provide[Container.config],
    reset_wal: ResetWal = Provide[Container.reset_wal],
) -> None:
    """Run pg_resetwal on DATABASE's data directory (a last resort; the server must be stopped).

    Example: controller resetwal users --dry-run
    """
    [target] = chosen(config, database, False)  # a server's data directory: a service
    report = reset_wal(target, dry_run=dry_run, force=force)
    echo(render_restore.reset(report))
    exit_with(report.exit_code)
