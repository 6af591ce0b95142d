"""``controller``'s point-in-time recovery commands: basebackup and recover (``list
--pitr`` and ``verify --pitr`` are options of their commands)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click
from dependency_injector.wiring import Provide, inject

from pg_backup_manager.adapters.configuration.services import WAL_ARCHIVE
from pg_backup_manager.domain.errors import ConfigurationError
from pg_backup_manager.entrypoints.cli import chosen, cli, echo, exit_with
from pg_backup_manager.entrypoints.containers import Container
from pg_backup_manager.entrypoints.rendering import pitr as render_pitr
from pg_backup_manager.entrypoints.rendering import pitr_recover

if TYPE_CHECKING:  # the container imports each use case when a command asks for it
    from pg_backup_manager.domain.model import Config
    from pg_backup_manager.domain.pitr.basebackup import TakeBaseBackups
    from pg_backup_manager.domain.pitr.recovery.recovering import Recover

_TO_HELP = (
    "latest (as far as the WAL received goes), an RFC 3339 time "
    "(2026-12-04T10:15:00Z; seconds optional), or a local time read in TZ "
    "('2026-12-04 11:15:00')."
)
_INTO_HELP = (
    "A new or empty directory (a new volume) that becomes the data directory; "
    "never one that holds anything, nor one among the backups."
)


@cli.command()
@click.argument("database")
@click.option("--to", "to", required=True, help=_TO_HELP)
@click.option("--into", "into", required=True, type=click.Path(path_type=Path), help=_INTO_HELP)
@inject
def recover(
    database: str,
    to: str,
    into: Path,
    config: Config = Provide[Container.config],
    recover: Recover = Provide[Container.pitr.recover],
) -> None:
    """Write a data directory that recovers DATABASE to a point in time by itself.

    From the newest base backup before the target and the WAL received after it:
    a PostgreSQL server of the same major version started on it replays the WAL
    up to the target, then promotes. The running server and the backups are
    never touched. Exit 2 when the target is outside every recoverable window
    (they are named; see 'list DATABASE --pitr').

    Example: controller recover orders --to '2026-12-04 11:15:00' --into /restore/orders
    """
    from zoneinfo import ZoneInfo

    from pg_backup_manager.domain.pitr.recovery.targets import parse_target

    [target_database] = chosen(config, database, False)  # a server's WAL: a service
    target = parse_target(to, ZoneInfo(config.timezone), config.timezone)
    report = recover(target_database, target=target, into=into)
    echo(pitr_recover.recover(report))
    exit_with(report.exit_code)


@cli.command()
@click.argument("database", required=False)
@click.option("--all", "all_", is_flag=True, help="Every database with <SERVICE>_WAL_ARCHIVE=true.")
@inject
def basebackup(
    database: str | None,
    all_: bool,
    config: Config = Provide[Container.config],
    take: Callable[[], TakeBaseBackups] = Provide[Container.pitr.take_base_backups.provider],
) -> None:
    """Take a base backup of DATABASE (or --all) now, for point-in-time recovery.

    pg_basebackup (plain, WAL streamed, SHA-256 manifest) into pitr/ beside the
    dumps; it counts only once pg_verifybackup has checked it. Needs
    <SERVICE>_WAL_ARCHIVE=true. Example: controller basebackup users
    """
    targets = [target for target in chosen(config, database, all_) if target.wal_archive]
    if not targets:
        named = database or "any database of DATABASE_LIST"
        variable = WAL_ARCHIVE.of(database).name if database else WAL_ARCHIVE.name
        raise ConfigurationError(f"no base backup of {named}: set {variable}=true")
    report = take()(targets)
    echo(render_pitr.base_backups(report))
    exit_with(report.exit_code)
