"""``controller``: the command line of the backup controller.

Exit codes: 0 success, 1 an operation failed, 2 usage or configuration error.
Errors are one line on standard error; ``--debug`` adds the traceback.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

import click
from dependency_injector.wiring import Provide, inject

from pg_backup_manager.adapters.heartbeat import FileHeartbeat
from pg_backup_manager.adapters.privileges import DEFAULT_USER
from pg_backup_manager.domain.backup import BackupPorts, dump_databases, prune, tier_of_run
from pg_backup_manager.domain.errors import ControllerError, IntegrityError
from pg_backup_manager.domain.model import Config, Database, Tier
from pg_backup_manager.domain.ports import BackupStore, WalResetter
from pg_backup_manager.domain.rescue import reset_wal
from pg_backup_manager.domain.restore import (
    RestoreOutcome,
    RestorePorts,
    restore_backup,
    restore_shared,
)
from pg_backup_manager.domain.scratch import LeftoverPlan
from pg_backup_manager.domain.verify import verify_backups
from pg_backup_manager.entrypoints import scheduler
from pg_backup_manager.entrypoints.containers import Container

_ALL_HELP = "Every database of DATABASE_LIST instead of one."


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
@click.option(
    "--max-age",
    default=180,
    show_default=True,
    type=click.IntRange(min=1),
    help="Seconds a heartbeat stays fresh.",
)
@inject
def health(max_age: int, heartbeat: FileHeartbeat = Provide[Container.heartbeat]) -> None:
    """Exit 0 if 'controller start' is alive (its heartbeat is fresh), else 1.

    The container's HEALTHCHECK. Example: controller health
    """
    age = heartbeat.age()
    if age > max_age:
        raise ControllerError(
            f"the scheduler's last heartbeat was {age:.0f} s ago (more than {max_age} s): "
            "'controller start' is stuck or gone"
        )
    click.echo(f"ok: the scheduler's last heartbeat was {age:.0f} s ago")


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
    ports: BackupPorts = Provide[Container.backup_ports],
) -> None:
    """Dump DATABASE (or --all) into a new, checked and checksummed backup file.

    Example: controller dump users --shared
    """
    chosen = _chosen(config, database, all_)
    outcomes = dump_databases(
        databases=chosen,
        tier=Tier(tier) if tier else tier_of_run(ports.clock.now(), timezone=config.timezone),
        ports=ports,
        shared=shared,
        parallelism=config.parallelism,
    )
    for outcome in outcomes:
        identifier = outcome.database.identifier
        if outcome.backup is not None:
            size = _size(outcome.backup.size)
            click.echo(f"{identifier}: created {outcome.backup.name} ({size})")
        if outcome.shared_copy is not None:
            click.echo(f"{identifier}: copied to {outcome.shared_copy}")
        if outcome.error is not None:
            click.echo(f"error: {identifier}: {_one_line(outcome.error)}", err=True)
    failed = [outcome for outcome in outcomes if not outcome.succeeded]
    if len(outcomes) > 1:
        names = ", ".join(outcome.database.identifier for outcome in failed)
        click.echo(
            f"dumped {len(outcomes) - len(failed)} of {len(outcomes)} databases"
            + (f"; failed: {names}" if failed else "")
        )
    if failed:
        raise click.exceptions.Exit(_worst(outcome.error for outcome in failed))


@cli.command(name="list")
@click.argument("database")
@inject
def list_(
    database: str,
    config: Config = Provide[Container.config],
    store: BackupStore = Provide[Container.store],
) -> None:
    """List the backups of DATABASE, newest first.

    Example: controller list users
    """
    identifier = config.database(database).identifier
    backups = store.backups(identifier)
    if not backups:
        click.echo(f"no backups of {identifier} in {config.layout.data_dir(identifier)}")
        return
    width = max(len(str(backup.name)) for backup in backups)
    click.echo(f"{'NAME':<{width}}  {'TIER':<7}  {'TAKEN (UTC)':<19}  SIZE")
    for backup in backups:
        taken = backup.name.taken_at.strftime("%Y-%m-%d %H:%M:%S")
        click.echo(
            f"{backup.name!s:<{width}}  {backup.name.tier.value:<7}  {taken:<19}  "
            f"{_size(backup.size)}"
        )


_NO_OWNER_HELP = "Do not restore owners and privileges (for a server without the dump's roles)."
_NO_SAFETY_HELP = "Do not save the current content as a backup first."


@cli.command()
@click.argument("database")
@click.argument("backup_file")
@click.option("--no-owner", is_flag=True, help=_NO_OWNER_HELP)
@click.option("--no-safety-dump", is_flag=True, help=_NO_SAFETY_HELP)
@inject
def restore(
    database: str,
    backup_file: str,
    no_owner: bool,
    no_safety_dump: bool,
    config: Config = Provide[Container.config],
    ports: BackupPorts = Provide[Container.backup_ports],
    restore_ports: RestorePorts = Provide[Container.restore_ports],
) -> None:
    """Replace DATABASE's content with BACKUP_FILE (a name shown by 'list').

    The archive's checksum and readability are checked first, the current
    content is saved as a backup, and the archive is loaded into a scratch
    database; the current database is replaced only when that load succeeded.

    Example: controller restore users file_daily_2024-07-04T09:00:00Z.dump
    """
    target = config.database(database)
    outcome = restore_backup(
        database=target,
        backup=backup_file,
        ports=ports,
        restore_ports=restore_ports,
        owners=not no_owner,
        safety_dump=not no_safety_dump,
    )
    _report_restore(target, outcome)


@cli.command(name="restore-from-shared")
@click.argument("database", required=False)
@click.option("--all", "all_", is_flag=True, help=_ALL_HELP)
@click.option("--no-owner", is_flag=True, help=_NO_OWNER_HELP)
@click.option("--no-safety-dump", is_flag=True, help=_NO_SAFETY_HELP)
@inject
def restore_from_shared(
    database: str | None,
    all_: bool,
    no_owner: bool,
    no_safety_dump: bool,
    config: Config = Provide[Container.config],
    ports: BackupPorts = Provide[Container.backup_ports],
    restore_ports: RestorePorts = Provide[Container.restore_ports],
) -> None:
    """Replace DATABASE's content (or --all) with its shared file.dump.

    Example: controller restore-from-shared --all
    """
    failed = []
    chosen = _chosen(config, database, all_)
    for target in chosen:
        try:
            outcome = restore_shared(
                database=target,
                ports=ports,
                restore_ports=restore_ports,
                owners=not no_owner,
                safety_dump=not no_safety_dump,
            )
        except ControllerError as error:
            if len(chosen) == 1:
                raise
            click.echo(f"error: {target.identifier}: {_one_line(error)}", err=True)
            failed.append(error)
            continue
        _report_restore(target, outcome)
    if len(chosen) > 1:
        click.echo(f"restored {len(chosen) - len(failed)} of {len(chosen)} databases")
    if failed:
        raise click.exceptions.Exit(_worst(failed))


def _report_leftovers(target: Database, leftovers: LeftoverPlan) -> None:
    for name in leftovers.drop:
        click.echo(f"{target.identifier}: dropped {name}, left by an interrupted run", err=True)
    if leftovers.put_back is not None:
        click.echo(
            f"{target.identifier}: database '{target.dbname}' was missing: put back "
            f"{leftovers.put_back}, set aside by an interrupted restore",
            err=True,
        )
    for name in leftovers.keep:
        click.echo(
            f"{target.identifier}: {name} holds content an interrupted restore replaced; "
            "drop it when you no longer need it",
            err=True,
        )


def _report_restore(target: Database, outcome: RestoreOutcome) -> None:
    _report_leftovers(target, outcome.leftovers)
    if outcome.safety_backup is not None:
        click.echo(
            f"{target.identifier}: saved the content it replaced as {outcome.safety_backup.name}"
        )
    checked = (
        "checksum verified" if outcome.checksum_verified else "no checksum file, archive checked"
    )
    click.echo(
        f"{target.identifier}: restored {outcome.archive.name} into {target.address} ({checked})"
    )


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
@inject
def verify(
    database: str | None,
    backup_file: str | None,
    all_: bool,
    and_restore: bool,
    config: Config = Provide[Container.config],
    ports: BackupPorts = Provide[Container.backup_ports],
    restore_ports: RestorePorts = Provide[Container.restore_ports],
) -> None:
    """Check the backups of DATABASE (or --all, or one BACKUP_FILE): checksum and archive.

    Exits 3 if any backup is corrupt. Example: controller verify users --restore
    """
    if all_ and backup_file is not None:
        raise click.UsageError("give a backup file with one database, not with --all")
    bad = 0
    for target in _chosen(config, database, all_):
        report = verify_backups(
            database=target,
            ports=ports,
            backup=backup_file,
            restore_ports=restore_ports if and_restore else None,
        )
        _report_leftovers(target, report.leftovers)
        checks = report.checks
        for check in checks:
            verdict = "ok" if check.passed else "FAILED"
            click.echo(
                f"{target.identifier}: {verdict} {check.name}: {check.detail or check.problem}"
            )
        bad += sum(not check.passed for check in checks)
        if not checks:
            click.echo(f"{target.identifier}: no backups to verify")
    if bad:
        raise IntegrityError(f"{bad} backup(s) failed verification: see the lines above")


@cli.command(name="prune")
@click.argument("database", required=False)
@click.option("--all", "all_", is_flag=True, help=_ALL_HELP)
@click.option("--dry-run", is_flag=True, help="Print the plan; delete nothing.")
@inject
def prune_(
    database: str | None,
    all_: bool,
    dry_run: bool,
    config: Config = Provide[Container.config],
    ports: BackupPorts = Provide[Container.backup_ports],
) -> None:
    """Apply retention now: daily backups are kept 7 days, weekly 30, monthly 365.

    The MIN_BACKUPS_KEPT (default 1) newest backups of a database are always
    kept. Example: controller prune users --dry-run
    """
    for target in _chosen(config, database, all_):
        plan = prune(database=target, ports=ports, min_kept=config.min_kept, dry_run=dry_run)
        for verdict in plan.verdicts:
            action = "keep  " if verdict.keep else ("would delete" if dry_run else "delete")
            click.echo(f"{target.identifier}: {action} {verdict.name} ({verdict.reason})")
        deleted = "would be deleted" if dry_run else "deleted"
        click.echo(
            f"{target.identifier}: {len(plan.to_delete)} of {len(plan.verdicts)} backups {deleted}"
        )


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
    ports: BackupPorts = Provide[Container.backup_ports],
    resetter: WalResetter = Provide[Container.resetter],
) -> None:
    """Run pg_resetwal on DATABASE's data directory (a last resort; the server must be stopped).

    Example: controller resetwal users --dry-run
    """
    report = reset_wal(
        database=config.database(database),
        layout=config.layout,
        resetter=resetter,
        locks=ports.locks,
        clock=ports.clock,
        dry_run=dry_run,
        force=force,
    )
    click.echo(report.output.rstrip())
    click.echo(report.next_steps)


def _worst(errors: Iterable[ControllerError | None]) -> int:
    """Return the exit code for several failures: integrity (3) over busy (4) over the rest."""
    codes = {error.exit_code for error in errors if error is not None}
    for code in (3, 4, 2):
        if code in codes:
            return code
    return 1


def _chosen(config: Config, database: str | None, all_: bool) -> list[Database]:
    if all_ == (database is not None):
        raise click.UsageError("give one database name or --all (not both)")
    return list(config.databases) if all_ else [config.database(database or "")]


def _size(size: int) -> str:
    amount = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if amount < 1024 or unit == "GiB":
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    raise AssertionError("unreachable")


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())


def main(argv: Sequence[str] | None = None, *, container: Container | None = None) -> int:
    """Run the command line ``argv`` (default: the process's); return the exit code.

    ``container`` defaults to one built from this process's environment and
    working directory; tests pass one with providers overridden.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    if not [arg for arg in args if arg != "--debug"]:
        # Like git: no command is a usage error, answered with the help alone.
        click.echo(cli.get_help(click.Context(cli, info_name="controller")))
        return 2
    # Whatever the umask, nothing the controller creates is writable by others.
    os.umask(os.umask(0) | 0o022)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr
    )
    if container is None:
        container = Container(environ=os.environ, cwd=Path.cwd())
    container.wire()
    scheduler.install_stop_handlers()
    try:
        container.drop_root()(
            container.environ().get("CONTROLLER_USER", "").strip() or DEFAULT_USER
        )
        result = cli.main(args=args, prog_name="controller", standalone_mode=False)
    except click.UsageError as error:
        command = error.ctx.command_path if error.ctx is not None else "controller"
        click.echo(f"error: {error.format_message()} (see '{command} --help')", err=True)
        return error.exit_code
    except click.ClickException as error:
        click.echo(f"error: {_one_line(error)}", err=True)
        return error.exit_code
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.exceptions.Abort:
        click.echo("error: aborted", err=True)
        return 1
    except scheduler.StopRequested as stop:
        click.echo(f"stopped by {stop}; nothing half-written was kept", err=True)
        return 0 if args[:1] == ["start"] else 1
    except ControllerError as error:
        if debug:
            raise
        click.echo(f"error: {_one_line(error)}", err=True)
        return error.exit_code
    except Exception as error:
        if debug:
            raise
        click.echo(
            f"error: unexpected {type(error).__name__}: {_one_line(error)} "
            "(run with --debug for the traceback)",
            err=True,
        )
        return 1
    finally:
        container.unwire()
    return result if isinstance(result, int) else 0


def run() -> None:
    """Console-script entry: exit with :func:`main`'s code."""
    sys.exit(main())
