"""``controller start``: the long-running scheduler loop, and how it stops."""

from __future__ import annotations

import logging
import signal
from contextlib import nullcontext
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING

from dependency_injector.wiring import Provide, inject

from pg_backup_manager.adapters.processes import terminate_all
from pg_backup_manager.domain.backups.timetable import Schedules, Timetable
from pg_backup_manager.domain.errors import ControllerError
from pg_backup_manager.domain.monitoring.health import run_bound
from pg_backup_manager.entrypoints import receivers
from pg_backup_manager.entrypoints.containers import Container

if TYPE_CHECKING:  # the container imports each use case when ``start`` asks for it
    from collections.abc import Callable, Sequence
    from contextlib import AbstractContextManager
    from datetime import datetime
    from types import FrameType

    from pg_backup_manager.adapters.settings import Monitoring, Settings
    from pg_backup_manager.domain.backups.backup_run import BackupRun, RunReport
    from pg_backup_manager.domain.model import Config
    from pg_backup_manager.domain.monitoring.freshness import DatabaseStatus
    from pg_backup_manager.domain.monitoring.ports import HeartbeatWriter
    from pg_backup_manager.domain.monitoring.status import Status
    from pg_backup_manager.domain.pitr.receiving import Supervisor
    from pg_backup_manager.domain.ports import Clock, Directories

log = logging.getLogger("controller")

_LONGEST_NAP_SECONDS = 60.0


class StopRequested(BaseException):
    """SIGTERM or SIGINT arrived. A BaseException, so no ``except Exception`` swallows it."""


def install_stop_handlers() -> None:
    """Make SIGTERM and SIGINT raise :class:`StopRequested` in the main thread."""

    def stop(signum: int, _: FrameType | None) -> None:
        # Tools that worker threads wait on must end too, before the unwinding.
        terminate_all()
        raise StopRequested(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)


def wait_until(due: datetime, *, clock: Clock, heartbeat: HeartbeatWriter | None = None) -> None:
    """Return once ``clock`` has reached ``due``, beating the heart at every nap.

    Sleeps in short naps and looks at the clock after each, so a clock that
    jumps (NTP, a suspended host) delays the run by at most one nap.
    """
    while (remaining := (due - clock.now()).total_seconds()) > 0:
        if heartbeat is not None:
            heartbeat.beat()
        clock.sleep(min(remaining, _LONGEST_NAP_SECONDS))


def run_schedule(
    *,
    schedules: Schedules,
    identifiers: Sequence[str],
    clock: Clock,
    job: Callable[[tuple[str, ...]], object],
    bound: Callable[[int], timedelta],
    heartbeat: HeartbeatWriter | None = None,
    runs: int | None = None,
) -> None:
    """Run ``job`` with the services of ``identifiers`` whose time of ``schedules`` came,
    forever or ``runs`` times (which services a run takes: :class:`Timetable`).

    A job that raises an ordinary exception is logged and the schedule goes on.
    The heartbeat is told the run it waits for, then each run and the time
    (``bound`` of its number of services after its start) by which it must have
    ended: ``health`` judges from them whether the loop makes progress.
    """
    timetable = Timetable.starting(schedules, identifiers, now=clock.now())
    done = 0
    while runs is None or done < runs:
        due = timetable.next_due
        log.info(
            "next scheduled backup at %s for %s",
            schedules.common.local(due).isoformat(),
            ", ".join(timetable.due_by(due)),
        )
        if heartbeat is not None:
            heartbeat.waiting(due)
        wait_until(due, clock=clock, heartbeat=heartbeat)
        ran = timetable.due_by(clock.now())
        try:
            with busy(heartbeat, clock=clock, bound=bound(len(ran))):
                job(ran)
        except Exception:
            log.exception("scheduled backup failed unexpectedly; the schedule goes on")
        timetable = timetable.after_run(ran, now=clock.now())
        done += 1


def busy(
    heartbeat: HeartbeatWriter | None, *, clock: Clock, bound: timedelta
) -> AbstractContextManager[None]:
    """Return the heartbeat's busy spell of a run starting now and ending within ``bound``
    (nothing without a heartbeat)."""
    if heartbeat is None:
        return nullcontext()
    now = clock.now()
    return heartbeat.while_busy(since=now, until=now + bound)


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
    settings: Settings = Provide[Container.settings],
    supervisor: Callable[[], Supervisor] = Provide[Container.pitr.supervisor.provider],
    runs: int | None = None,
) -> None:
    """Run the scheduler until a stop signal (or for ``runs`` runs, in tests), with a
    WAL receiver for each service with ``<SERVICE>_WAL_ARCHIVE=true`` beside it.

    Raises:
        ControllerError: the backup directories cannot be created, or the
            metrics port cannot be opened.
    """
    identifiers = [database.identifier for database in config.databases]
    directories.prepare(identifiers, shared=config.create_shared_dirs)
    heartbeat.started(clock.now())
    log.info("managing %s; backups in %s", ", ".join(identifiers), config.layout.data_root)
    if monitoring.metrics_port is not None:
        _serve_metrics(monitoring, partial(status, config.databases, runs_total=True))
    archived = [database for database in config.databases if database.wal_archive]
    # The receivers go on whatever MODE says: WAL archiving is asked for service by service.
    with receivers.receiving(archived, supervisor() if archived else None):
        _schedule(config, monitoring, schedules, clock, heartbeat, backup_run, settings, runs)


def _schedule(
    config: Config,
    monitoring: Monitoring,
    schedules: Schedules,
    clock: Clock,
    heartbeat: HeartbeatWriter,
    backup_run: BackupRun,
    settings: Settings,
    runs: int | None,
) -> None:
    identifiers = [database.identifier for database in config.databases]
    if not config.production:
        log.warning(
            "MODE is not 'production': scheduled dumps are off; "
            "the controller stays up for manual commands"
        )
        while True:
            heartbeat.beat()
            clock.sleep(_LONGEST_NAP_SECONDS)
    shared = ", copied to shared" if config.copy_to_shared else ""
    own = "".join(f"; {i} on {schedules.of(i)}" for i in identifiers if schedules.has_own(i))
    log.info("scheduled dumps on %s%s%s", schedules.common, own, shared)

    def job(due: Sequence[str]) -> None:
        # The whole run (take, upload, prune, record, tell) is BackupRun's; here it is logged.
        databases = [database for database in config.databases if database.identifier in due]
        log_run(backup_run.scheduled(databases, share=config.copy_to_shared))

    def bound(databases: int) -> timedelta:
        # The commands before and after backups: those of every service, at most.
        return run_bound(
            databases=databases,
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
    )


def log_run(report: RunReport) -> None:
    """Log what a scheduled run did, database by database (:func:`.render_run.run_lines`)."""
    from pg_backup_manager.entrypoints.rendering import run as render_run  # ``start``'s alone

    for level, message in render_run.run_lines(report):
        log.log(level, message)


def _serve_metrics(monitoring: Monitoring, statuses: Callable[[], list[DatabaseStatus]]) -> None:
    from pg_backup_manager.adapters.monitoring.metrics import serve_metrics  # only when asked for

    assert monitoring.metrics_port is not None
    try:
        serve_metrics(
            address=monitoring.metrics_address,
            port=monitoring.metrics_port,
            statuses=statuses,
        )
    except OSError as error:
        raise ControllerError(
            f"cannot serve metrics on {monitoring.metrics_address}:{monitoring.metrics_port} "
            f"({error.strerror or error}): check METRICS_PORT and METRICS_ADDRESS"
        ) from None
    log.info("metrics on http://%s:%s/metrics", monitoring.metrics_address, monitoring.metrics_port)
