"""``controller``'s commands. Each is the same four steps: options, then one use case,
whose report carries its exit code, then a pure renderer whose lines the command echoes.

Exit codes: 0 success, 1 an operation failed, 2 usage or configuration error,
3 integrity failure, 4 busy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import click
from dependency_injector.wiring import Provide, inject

from pg_backup_manager.domain import database_names
from pg_backup_manager.domain.names import Tier
from pg_backup_manager.domain.targets import Targets, services
from pg_backup_manager.entrypoints import scheduler, version
from pg_backup_manager.entrypoints.containers import Container
from pg_backup_manager.entrypoints.rendering import backups as render
from pg_backup_manager.entrypoints.rendering import documents
from pg_backup_manager.entrypoints.rendering import offsite as render_offsite
from pg_backup_manager.entrypoints.rendering import pitr as render_pitr
from pg_backup_manager.entrypoints.rendering.pitr_prune import pitr_prune

if TYPE_CHECKING:  # the container imports each use case when a command asks for it
    from pg_backup_manager.domain.backups.backup_run import BackupRun
    from pg_backup_manager.domain.backups.listing import ListBackups
    from pg_backup_manager.domain.backups.pruning import Prune
    from pg_backup_manager.domain.every_database import DatabaseLister, StoredDatabases
    from pg_backup_manager.domain.model import Config, Database
    from pg_backup_manager.domain.offsite.listing import ListOffsiteCopies
    from pg_backup_manager.domain.offsite.pruning import PruneOffsite
    from pg_backup_manager.domain.offsite.sync import Sync
    from pg_backup_manager.domain.pitr.listing import ListPitr
    from pg_backup_manager.domain.pitr.pruning import PrunePitr

_ALL_HELP = "Every database of DATABASE_LIST instead of one (of a server's, each)."


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks of errors.")
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=version.show,
    help="Show the controller's version and the PostgreSQL tools it uses, and exit.",
)
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
    targets: Targets = Provide[Container.servers.targets],
    server: DatabaseLister = Provide[Container.servers.server],
    backup_run: BackupRun = Provide[Container.backup_run],
) -> None:
    """Dump DATABASE (or --all) into a new, checked and checksummed backup file.

    With OFFSITE_URL set, every local backup missing off-site is then uploaded,
    oldest first; if that fails the backup stays local and the exit code is 1.
    A service with <SERVICE>_POSTGRES_DB=*: each database its server has now,
    or one, named SERVICE/DATABASE. Example: controller dump users --shared
    """
    chosen = targets.to_dump(database, all_=all_, server=server)
    report = backup_run.dump(chosen, tier=Tier(tier) if tier else None, share=shared)
    echo(render.dump(report))
    exit_with(report.exit_code)


@cli.command(name="list")
@click.argument("database", required=False)
@click.option("--all", "all_", is_flag=True, help=_ALL_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document (schema 1).")
@click.option("--remote", is_flag=True, help="List the off-site copies (OFFSITE_URL) instead.")
@click.option(
    "--pitr", is_flag=True, help="List the streams, base backups and WAL (<SERVICE>_WAL_ARCHIVE)."
)
@inject
def list_(
    database: str | None,
    all_: bool,
    as_json: bool,
    remote: bool,
    pitr: bool,
    targets: Targets = Provide[Container.servers.targets],
    list_backups: ListBackups = Provide[Container.list_backups],
    list_offsite: Callable[[], ListOffsiteCopies] = Provide[Container.list_offsite.provider],
    list_pitr: Callable[[], ListPitr] = Provide[Container.pitr.list_pitr.provider],
    offsite: Callable[[], StoredDatabases] = Provide[Container.offsite.provider],
) -> None:
    """List the backups of DATABASE (or --all, the default), newest first.

    With --remote, the copies in the off-site store (OFFSITE_URL) instead. With
    --pitr, the point-in-time recovery streams, newest first: their base backups
    and the WAL received. Example: controller list users
    """
    all_ = all_ or database is None
    if pitr:
        if remote:
            raise click.UsageError("--pitr lists local streams only: not with --remote")
        found = list_pitr()(targets.services(database, all_=all_))
        lines = [render.document(render_pitr.document(found))] if as_json else None
        echo(lines or [render_pitr.listing(listing) for listing in found.listings])
        exit_with(found.exit_code)
        return
    chosen = targets.named(database, all_=all_, offsite=offsite() if remote else None)
    if remote:
        copies = list_offsite()(chosen)  # built only here: the store for --remote alone
        if as_json:
            echo([render.document(documents.offsite_copies(copies))])
        else:
            titled = len(copies.listings) > 1
            echo(render_offsite.offsite_copies(one, titled=titled) for one in copies.listings)
        exit_with(copies.exit_code)
        return
    report = list_backups(chosen, checksums=as_json)
    if as_json:
        echo([render.document(documents.backups(report))])
    else:
        titled = len(report.listings) > 1  # one table per database, each under its name
        echo(render.backups(listing, titled=titled) for listing in report.listings)
    exit_with(report.exit_code)


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
    targets: Targets = Provide[Container.servers.targets],
    prune: Prune = Provide[Container.prune],
    prune_offsite: Callable[[], PruneOffsite] = Provide[Container.prune_offsite.provider],
    prune_pitr: Callable[[], PrunePitr] = Provide[Container.pitr.prune.provider],
    offsite: Callable[[], StoredDatabases] = Provide[Container.offsite.provider],
) -> None:
    """Apply retention now: daily backups are kept 7 days, weekly 30, monthly 365.

    The MIN_BACKUPS_KEPT (default 1) newest backups of a database are always
    kept. With --remote, the same policy applies to the off-site copies: only
    keys under <prefix>/<db>/ named like backups are judged, and of those only
    the copies the controller would restore; the others are reported, never deleted.
    Then, with <SERVICE>_WAL_ARCHIVE=true (not with --remote), the base backups
    and WAL that recovering PITR_RETENTION_DAYS back does not need (the newest
    base backup always stays). Example: controller prune users --dry-run
    """
    from pg_backup_manager.domain.backups.pruning import prune_each  # what prune alone needs

    chosen = targets.named(database, all_=all_, offsite=offsite() if remote else None)
    pruner = prune_offsite() if remote else prune  # the store is built for --remote alone
    report = prune_each(
        chosen,
        prune=lambda target: pruner.one(target, dry_run=dry_run),
        told=lambda result: echo(render.prune(result, remote=remote)),  # each as it is done
    )
    # Point-in-time retention is a server's: a service's, never one database's.
    one_database = database_names.split(database or "")[1] is not None
    archiving = [] if remote or one_database else targets.services(database, all_=all_)
    archiving = [service for service in archiving if service.wal_archive]
    if not archiving:
        exit_with(report.exit_code)
        return
    pitr = prune_pitr()(archiving, dry_run=dry_run, told=lambda result: echo(pitr_prune(result)))
    exit_with(max(report.exit_code, pitr.exit_code))


@cli.command()
@click.argument("database", required=False)
@click.option("--all", "all_", is_flag=True, help=_ALL_HELP)
@inject
def sync(
    database: str | None,
    all_: bool,
    targets: Targets = Provide[Container.servers.targets],
    sync: Sync = Provide[Container.sync],
) -> None:
    """Upload every local backup of DATABASE (or --all) missing off-site, oldest first.

    Needs OFFSITE_URL. A failed upload leaves the local backup in place; the
    next sync uploads it. Example: controller sync --all
    """
    report = sync(targets.named(database, all_=all_))
    echo(render_offsite.sync(report))
    exit_with(report.exit_code)


def chosen(config: Config, database: str | None, all_: bool) -> list[Database]:
    """Return the services named (``all_``: each one) as configured, for the commands that
    work on a server (point-in-time recovery, ``resetwal``): never one database of one."""
    return services(config, database, all_=all_)


def echo(lines: Iterable[render.Line]) -> None:
    """Write ``lines`` in order, each to its stream: the only output of a command."""
    for line in lines:
        click.echo(line.shown, err=line.err)


def exit_with(code: int) -> None:
    if code:
        raise click.exceptions.Exit(code)
