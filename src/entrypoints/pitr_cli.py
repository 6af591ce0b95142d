"""``controller``'s point-in-time recovery commands: recover (and, with the base backup
work, basebackup)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
from dependency_injector.wiring import Provide, inject

from pg_backup_manager.entrypoints.cli import cli, echo, exit_with
from pg_backup_manager.entrypoints.containers import Container
from pg_backup_manager.entrypoints.rendering import pitr_recover as render_pitr

if TYPE_CHECKING:  # the container imports each use case when a command asks for it
    from pg_backup_manager.domain.model import Config
    from pg_backup_manager.domain.pitr.recovery.recovering import Recover

_TO_HELP = (
    "latest (as far as the WAL received goes), an RFC 3339 time "
    "(2026-12-04T10:15:00Z), or a local time read in TZ ('2026-12-04 11:15:00')."
)
_INTO_HELP = (
    "A new or empty directory (a new volume) that becomes the data directory; "
    "never one that holds anything."
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
    recover: Recover = Provide[Container.recover],
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

    target_database = config.database(database)
    target = parse_target(to, ZoneInfo(config.timezone), config.timezone)
    report = recover(target_database, target=target, into=into)
    echo(render_pitr.recover(report))
    exit_with(report.exit_code)
