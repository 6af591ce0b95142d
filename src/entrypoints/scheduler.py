"""``controller start``: the scheduler (its loop in :mod:`.loop`), and how it stops."""

from __future__ import annotations

import logging
import signal
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING

from dependency_injector.wiring import Provide, inject

from pg_backup_manager.adapters.processes import terminate_all
from pg_backup_manager.domain.backups.timetable import Schedules
from pg_backup_manager.domain.monitoring.health import run_bound
from pg_backup_manager.domain.monitoring.page import StatusPage
from pg_backup_manager.entrypoints import receivers
from pg_backup_manager.entrypoints.containers import Container
from pg_backup_manager.entrypoints.loop import LONGEST_NAP_SECONDS, busy, run_schedule

if TYPE_CHECKING:  # the container imports each use case when ``start`` asks for it
    from collections.abc import Callable, Sequence
    from types import FrameType

    from pg_backup_manager.adapters.settings import Monitoring, Settings
    from pg_backup_manager.domain.backups.backup_run import BackupRun, RunReport
    from pg_backup_manager.domain.model import Config, Database
    from pg_backup_manager.domain.monitoring.ports import HeartbeatWriter, HistoryReads
    from pg_backup_manager.domain.monitoring.status import CheckHealth, Status
    from pg_backup_manager.domain.pitr.receiving import Supervisor
    from pg_backup_manager.domain.ports import Clock, Directories
    from pg_backup_manager.domain.targets import Targets
    from pg_backup_manager.domain.verification.verifying import ScheduledVerify
    from pg_backup_manager.entrypoints.verifications import Verifications

log = logging.getLogger("controller")


class StopRequested(BaseException):
    """SIGTERM or SIGINT arrived. A BaseException, so no ``except Exception`` swallows it."""


def install_stop_handlers() -> None:
    """Make SIGTERM and SIGINT raise :class:`StopRequested` in the main thread."""

    def stop(signum: int, _: FrameType | None) -> None:
        # Tools that worker threads wait on must end too, before the unwinding.
        name = signal.Signals(signum).name
        terminate_all(stopped_by=name)
        raise StopRequested(name)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)


@inject
def start(
    *,
    config: Config = Provide[Container.config],
    monitoring: Monitoring = Provide[Container.monitoring],
    schedules: Schedules = Provide[Container.schedules],
    clock: Clock = Provide[Container.clock],
    directories: Directories = Provide[Container.directories],
    heartbeat: HeartbeatWriter = Provide[Container.heartbeat],
    backup_run: BackupRun = Provide[Container.backup_run],
    status: Status = Provide[Container.status],
    check_health: CheckHealth = Provide[Container.check_health],
    history: HistoryReads = Provide[Container.history],
    settings: Settings = Provide[Container.settings],
    targets: Targets = Provide[Container.servers.targets],
    supervisor: Callable[[], Supervisor] = Provide[Container.pitr.supervisor.provider],
    scheduled_verify: Callable[[], ScheduledVerify] = Provide[Container.scheduled_verify.provider],
    runs: int | None = None,
) -> None:
    """Run the scheduler until a stop signal (or for ``runs`` runs, in tests), with a
    WAL receiver for each service with ``<SERVICE>_WAL_ARCHIVE=true`` beside it, and
    with ``VERIFY_SCHEDULE`` the scheduled verifications between its runs.

    Raises:
        ControllerError: the backup directories cannot be created, or the
            metrics port cannot be opened.
    """
    identifiers = [database.identifier for database in config.databases]
    directories.prepare(identifiers, shared=config.create_shared_dirs)
    heartbeat.started(clock.now())
    log.info("managing %s; backups in %s", ", ".join(identifiers), config.layout.data_root)
    if monitoring.metrics_port is not None:
        page = StatusPage(check_health=check_health, histories=history)
        _serve_metrics(monitoring, config.databases, status, page, history)
    archived = [database for database in config.databases if database.wal_archive]
    verifications = None
    if settings.verification is not None:  # VERIFY_SCHEDULE
        from pg_backup_manager.entrypoints.verifications import scheduled

        verifications = scheduled(
            settings,
            settings.verification,
            clock=clock,
            heartbeat=heartbeat,
            verify=scheduled_verify(),
            databases=partial(targets.named, None, all_=True),  # a server's, as known then
        )
    # The receivers go on whatever MODE says: WAL archiving is asked for service by service.
    with receivers.receiving(archived, supervisor() if archived else None):
        _schedule(
            config,
            monitoring,
            schedules,
            clock,
            heartbeat,
            backup_run,
            settings,
            targets,
            runs,
            verifications,
        )


def _schedule(
    config: Config,
    monitoring: Monitoring,
    schedules: Schedules,
    clock: Clock,
    heartbeat: HeartbeatWriter,
    backup_run: BackupRun,
    settings: Settings,
    targets: Targets,
    runs: int | None,
    verifications: Verifications | None = None,
) -> None:
    identifiers = [database.identifier for database in config.databases]
    if not config.production:
        log.warning(
            "MODE is not 'production': scheduled dumps are off; "
            "the controller stays up for manual commands"
        )
        if verifications is not None:  # asked for by itself: whatever MODE says
            verifications.until(None)
        while True:
            heartbeat.beat()
            clock.sleep(LONGEST_NAP_SECONDS)
    shared = ", copied to shared" if config.copy_to_shared else ""
    own = "".join(f"; {i} on {schedules.of(i)}" for i in identifiers if schedules.has_own(i))
    log.info("scheduled dumps on %s%s%s", schedules.common, own, shared)

    def job(due: Sequence[str]) -> None:
        # The whole run (take, upload, prune, record, tell) is BackupRun's; here it is logged.
        databases = [database for database in config.databases if database.identifier in due]
        log_run(backup_run.scheduled(databases, share=config.copy_to_shared))

    def bound(services: int) -> timedelta:
        # The commands before and after backups: those of every service, at most. A service
        # with every database of its server counts as each database known of it.
        return run_bound(
            databases=services + targets.count() - len(config.databases),
            dump_timeout=settings.dump_timeout,
            lock_wait=settings.lock_wait,
            hooks=settings.hooks.run_seconds,
        )

    if monitoring.backup_on_start:
        log.info("BACKUP_ON_START: a backup of every database now")
        with busy(heartbeat, clock=clock, bound=bound(len(identifiers))):
            job(identifiers)
    run_schedule(
        schedules=schedules,
        identifiers=identifiers,
        clock=clock,
        job=job,
        bound=bound,
        heartbeat=heartbeat,
        runs=runs,
        meanwhile=None if verifications is None else verifications.until,
    )


def log_run(report: RunReport) -> None:
    """Log what a scheduled run did, database by database (:func:`.render_run.run_lines`)."""
    from pg_backup_manager.entrypoints.rendering import run as render_run  # ``start``'s alone

    for level, message in render_run.run_lines(report):
        log.log(level, message)


def _serve_metrics(
    monitoring: Monitoring,
    databases: Sequence[Database],
    status: Status,
    page: StatusPage,
    histories: HistoryReads,
) -> None:
    """Serve ``/metrics``, the status page ``/`` and ``/status.json`` (``status --json``)
    on ``METRICS_PORT``, behind ``METRICS_USER``/``METRICS_PASSWORD`` when set; each
    answer reads each history once."""
    # Only when asked for: the server, the page's renderer.
    from pg_backup_manager.adapters.monitoring.metrics import serve_metrics
    from pg_backup_manager.adapters.monitoring.web import Login
    from pg_backup_manager.entrypoints.rendering import documents
    from pg_backup_manager.entrypoints.rendering.page import page as render_page

    assert monitoring.metrics_port is not None
    login = monitoring.metrics_login
    serve_metrics(
        address=monitoring.metrics_address,
        port=monitoring.metrics_port,
        statuses=lambda: status.reading(histories.read_once())(databases, runs_total=True),
        page=lambda: render_page(page(databases)),
        document=lambda: documents.statuses(status.reading(histories.read_once())(databases)),
        login=None if login is None else Login(user=login[0], password=login[1]),
    )
    at = f"http://{monitoring.metrics_address}:{monitoring.metrics_port}"
    log.info(
        "status page on %s/, metrics on %s/metrics%s",
        at,
        at,
        "" if login is None else " (basic auth)",
    )
