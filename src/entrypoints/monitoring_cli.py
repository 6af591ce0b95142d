"""``controller``'s monitoring commands: health, status, config.

Their renderers are imported by the commands themselves: every other command,
and ``--help``, starts without them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click
from dependency_injector.wiring import Provide, inject

from pg_backup_manager.entrypoints.cli import _ALL_HELP, cli, echo, exit_with
from pg_backup_manager.entrypoints.containers import Container
from pg_backup_manager.entrypoints.rendering import documents
from pg_backup_manager.entrypoints.rendering.backups import document

if TYPE_CHECKING:  # the container imports each use case when a command asks for it
    from pg_backup_manager.adapters.postgres.pg_binaries import ClientTools
    from pg_backup_manager.adapters.settings import Settings
    from pg_backup_manager.domain.model import Config
    from pg_backup_manager.domain.monitoring.status import CheckHealth, Status
    from pg_backup_manager.domain.ports import Clock
    from pg_backup_manager.domain.targets import Targets


@cli.command()
@click.option(
    "--max-age",
    default=180,
    show_default=True,
    type=click.IntRange(min=1),
    help="Seconds the scheduler's heartbeat stays fresh.",
)
@click.option("--liveness", is_flag=True, help="Only check that the scheduler is alive.")
@inject
def health(
    max_age: int,
    liveness: bool,
    config: Config = Provide[Container.config],
    check_health: CheckHealth = Provide[Container.check_health],
) -> None:
    """Exit 0 if the scheduler is alive and every database has a fresh backup, else 1.

    A backup is fresh when it is at most BACKUP_MAX_AGE old. The container's
    HEALTHCHECK. Example: controller health
    """
    from pg_backup_manager.entrypoints.rendering import status as render_status

    report = check_health(config.databases, max_heartbeat_age=max_age, liveness_only=liveness)
    echo(render_status.health(report))
    exit_with(report.exit_code)


@cli.command()
@click.argument("database", required=False)
@click.option("--all", "all_", is_flag=True, help=_ALL_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document (schema 1).")
@inject
def status(
    database: str | None,
    all_: bool,
    as_json: bool,
    config: Config = Provide[Container.config],
    targets: Targets = Provide[Container.servers.targets],
    status: Status = Provide[Container.status],
) -> None:
    """Show the backups of DATABASE (default: all): newest, last runs, failures, next run.

    Example: controller status --all --json
    """
    from pg_backup_manager.entrypoints.rendering import status as render_status

    if all_ and database is not None:
        raise click.UsageError("give one database name or --all (not both)")
    # A service with every database stands for each of them: Status finds them.
    chosen = [targets.checked(database)] if database is not None else list(config.databases)
    statuses = status(chosen)
    if as_json:
        echo([document(documents.statuses(statuses))])
    else:
        echo(render_status.statuses(statuses, status.schedules))


@cli.command(name="config")
@inject
def config_(
    environ: dict[str, str] = Provide[Container.environ],
    settings: Settings = Provide[Container.settings],
    tools: ClientTools = Provide[Container.client_tools],
    clock: Clock = Provide[Container.clock],
) -> None:
    """Print the effective configuration: every variable, the value the controller uses
    and where it came from (the environment, a file, a default and how it is derived).

    Secrets are never printed. Exits 2, naming the variable, when the
    configuration is invalid. Example: controller config
    """
    from pg_backup_manager.adapters.config_report import report
    from pg_backup_manager.entrypoints.rendering import status as render_status

    echo(render_status.configuration(report(environ, settings, tools=tools, now=clock.now())))
