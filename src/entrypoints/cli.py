"""``controller``'s commands: each is options, then one use case, then its rendering.

Exit codes: 0 success, 1 an operation failed, 2 usage or configuration error,
3 integrity failure, 4 busy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import click
from dependency_injector.wiring import Provide, inject

from pg_backup_manager.domain.errors import IntegrityError, worst_exit_code
from pg_backup_manager.domain.names import Tier
from pg_backup_manager.entrypoints import documents, render, scheduler
from pg_backup_manager.entrypoints.containers import Container

if TYPE_CHECKING:  # the container imports each use case when a command asks for it
    from pg_backup_manager.domain.backups.backing_up import BackUp
    from pg_backup_manager.domain.backups.pruning import Prune
    from pg_backup_manager.domain.model import Config, Database
    from pg_backup_manager.domain.offsite.from_offsite import FromOffsite
    from pg_backup_manager.domain.offsite.ports import OffsiteStore
    from pg_backup_manager.domain.offsite.pruning import PruneOffsite
    from pg_backup_manager.domain.offsite.sync import Sync
    from pg_backup_manager.domain.ports import BackupCatalog
    from pg_backup_manager.domain.restore.restoring import Restore
    from pg_backup_manager.domain.restore.verifying import Verify
    from pg_backup_manager.domain.wal.reset import ResetWal

_ALL_HELP = "Every database of DATABASE_LIST instead of one."
_NO_OWNER_HELP = "Do not restore owners and privileges (for a server without the dump's roles)."
_WITH_GLOBALS_HELP = (
    "First create the roles of the backup's globals that the server lacks "
    "(a new server); existing roles are never changed."
)
_NO_SAFETY_HELP = "Do not save the current content as a backup first."
_REMOTE_HELP = (
    "Use the off-site copy (OFFSITE_URL): downloaded beside the local backups, "
    "decrypted with ENCRYPTION_IDENTITY_FILE if it was encrypted, checked against its "
    "SHA-256, removed afterwards."
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks of errors.")
def cli(debug: bool) -> None:
    """Back up, list, restore and rescue the PostgreSQL databases of DATABASE_LIST."""


@cli.command()
def start() -> None:
    """Run the scheduler (the container's main process).

    With MODE=production every database is dumped at each time of
    BACKUP_SCHEDULE (default 03:00, 09:00, 15:00 and 21:00 in TZ), copied to
    shared when COPING_TO_SHARED=true, then retention runs. Stops on SIGTERM.
    """
    scheduler.start()


@cli.command()
@click.argument("database", required=False)
@click.option("--all", "all_", is_flag=True, help=_ALL_HELP)
@click.option("--shared", is_flag=True, help="Also copy each archive to shared/<db>/file.dump.")
@click.option(
    "--tier",
    type=click.Choice([tier.value for tier in Tier]),
    help="Tier of the new backup (default: monthly on the 1st, weekly on Saturdays, else daily).",
)
@inject
def dump(
    database: str | None,
    all_: bool,
    shared: bool,
    tier: str | None,
    config: Config = Provide[Container.config],
    back_up: BackUp = Provide[Container.back_up],
) -> None:
    """Dump DATABASE (or --all) into a new, checked and checksummed backup file.

    With OFFSITE_URL set, every local backup missing off-site is then uploaded,
    oldest first; if that fails the backup stays local and the exit code is 1.
    Example: controller dump users --shared
    """
    targets = chosen(config, database, all_)
    report = back_up(targets, tier=Tier(tier) if tier else None, share=shared)
    render.dump(report.dumps)
    render.offsite_after_backup(report.offsite)
    exit_with(report.exit_code)


@cli.command(name="list")
@click.argument("database", required=False)
@click.option("--all", "all_", is_flag=True, help=_ALL_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document (schema 1).")
@click.option("--remote", is_flag=True, help="List the off-site copies (OFFSITE_URL) instead.")
@inject
def list_(
    database: str | None,
    all_: bool,
    as_json: bool,
    remote: bool,
    config: Config = Provide[Container.config],
    catalog: BackupCatalog = Provide[Container.catalog],
    offsite: Callable[[], OffsiteStore] = Provide[Container.offsite.provider],
) -> None:
    """List the backups of DATABASE (or --all), newest first.

    With --remote, the copies in the off-site store (OFFSITE_URL) instead.
    Example: controller list users
    """
    targets = chosen(config, database, all_)
    if remote:
        store = offsite()  # built only here: boto3 is imported for --remote alone
        if as_json:
            documents.print_offsite_copies(store, targets)
            return
        for target in targets:
            identifier = target.identifier
            render.offsite_copies(identifier, store.copies(identifier), store.location(identifier))
        return
    if as_json:
        documents.print_backups(catalog, targets)
        return
    for target in targets:
        render.backups(target.identifier, catalog.backups(target.identifier), config.layout)


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
    config: Config = Provide[Container.config],
    restore: Restore = Provide[Container.restore],
    from_offsite: Callable[[], FromOffsite] = Provide[Container.from_offsite.provider],
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
    target = config.database(database)
    owners, safety_dump = not no_owner, not no_safety_dump
    # The off-site store (boto3) is built only for --remote.
    restore_backup = from_offsite().restore_backup if remote else restore.backup
    render.restore(
        restore_backup(
            target,
            backup_file,
            owners=owners,
            safety_dump=safety_dump,
            with_globals=with_globals,
        )
    )


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
    config: Config = Provide[Container.config],
    restore: Restore = Provide[Container.restore],
) -> None:
    """Replace DATABASE's content (or --all) with its shared file.dump.

    Example: controller restore-from-shared --all
    """
    targets = chosen(config, database, all_)
    owners, safety_dump = not no_owner, not no_safety_dump
    results = []
    for target in targets:  # each reported as soon as it is done
        [result] = restore.shared_copies(
            [target], owners=owners, safety_dump=safety_dump, with_globals=with_globals
        )
        if len(targets) == 1 and result.error is not None:
            raise result.error
        render.restores([result])
        results.append(result)
    render.restored_count(results)
    exit_with(worst_exit_code(result.error for result in results))


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
@inject
def verify(
    database: str | None,
    backup_file: str | None,
    all_: bool,
    and_restore: bool,
    remote: bool,
    config: Config = Provide[Container.config],
    verify: Verify = Provide[Container.verify],
    from_offsite: Callable[[], FromOffsite] = Provide[Container.from_offsite.provider],
) -> None:
    """Check the backups of DATABASE (or --all, or one BACKUP_FILE): checksum and archive.

    With --remote, the off-site copies instead, each downloaded in turn.
    Exits 3 if any backup is corrupt. Example: controller verify users --restore
    """
    if all_ and backup_file is not None:
        raise click.UsageError("give a backup file with one database, not with --all")
    remote_copies = from_offsite() if remote else None
    bad = 0
    for target in chosen(config, database, all_):  # each reported as soon as it is done
        if remote_copies is not None:
            reports = remote_copies.verify_backups(target, backup=backup_file, restore=and_restore)
        else:
            reports = verify([target], backup=backup_file, restore=and_restore)
        render.verify(reports)
        bad += sum(not check.passed for report in reports for check in report.checks)
    if bad:
        raise IntegrityError(f"{bad} backup(s) failed verification: see the lines above")


@cli.command(name="prune")
@click.argument("database", required=False)
@click.option("--all", "all_", is_flag=True, help=_ALL_HELP)
@click.option("--dry-run", is_flag=True, help="Print the plan; delete nothing.")
@click.option(
    "--remote",
    is_flag=True,
    help="Apply it to the off-site copies (OFFSITE_URL) instead; refused with "
    "OFFSITE_RETENTION=false.",
)
@inject
def prune_(
    database: str | None,
    all_: bool,
    dry_run: bool,
    remote: bool,
    config: Config = Provide[Container.config],
    prune: Prune = Provide[Container.prune],
    prune_offsite: Callable[[], PruneOffsite] = Provide[Container.prune_offsite.provider],
) -> None:
    """Apply retention now: daily backups are kept 7 days, weekly 30, monthly 365.

    The MIN_BACKUPS_KEPT (default 1) newest backups of a database are always
    kept. With --remote, the same policy applies to the off-site copies: only
    keys under <prefix>/<db>/ named like backups are judged, and of those only
    the copies the controller would restore; the others are reported, never deleted.
    Example: controller prune users --dry-run
    """
    targets = chosen(config, database, all_)
    pruner = prune_offsite() if remote else prune  # boto3 is imported for --remote alone
    for target in targets:  # each reported as soon as it is done
        render.prune([pruner.one(target, dry_run=dry_run)], remote=remote)


@cli.command()
@click.argument("database", required=False)
@click.option("--all", "all_", is_flag=True, help=_ALL_HELP)
@inject
def sync(
    database: str | None,
    all_: bool,
    config: Config = Provide[Container.config],
    sync: Sync = Provide[Container.sync],
) -> None:
    """Upload every local backup of DATABASE (or --all) missing off-site, oldest first.

    Needs OFFSITE_URL. A failed upload leaves the local backup in place; the
    next sync uploads it. Example: controller sync --all
    """
    targets = chosen(config, database, all_)
    report = sync(targets)
    render.sync(report)
    exit_with(report.exit_code)


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
    render.reset(reset_wal(config.database(database), dry_run=dry_run, force=force))


def chosen(config: Config, database: str | None, all_: bool) -> list[Database]:
    if all_ == (database is not None):
        raise click.UsageError("give one database name or --all (not both)")
    return list(config.databases) if all_ else [config.database(database or "")]


def exit_with(code: int) -> None:
    if code:
        raise click.exceptions.Exit(code)
