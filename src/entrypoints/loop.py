"""The scheduler's loop: each backup run at its time (which services it takes:
:class:`~pg_backup_manager.domain.backups.timetable.Timetable`), the heartbeat told what
it waits for and what it runs."""

from __future__ import annotations

import logging
from contextlib import nullcontext
from typing import TYPE_CHECKING

from pg_backup_manager.domain.backups.timetable import Schedules, Timetable

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from contextlib import AbstractContextManager
    from datetime import datetime, timedelta

    from pg_backup_manager.domain.monitoring.ports import HeartbeatWriter
    from pg_backup_manager.domain.ports import Clock

log = logging.getLogger("controller")

LONGEST_NAP_SECONDS = 60.0


def wait_until(due: datetime, *, clock: Clock, heartbeat: HeartbeatWriter | None = None) -> None:
    """Return once ``clock`` has reached ``due``, beating the heart at every nap.

    Sleeps in short naps and looks at the clock after each, so a clock that
    jumps (NTP, a suspended host) delays the run by at most one nap.
    """
    while (remaining := (due - clock.now()).total_seconds()) > 0:
        if heartbeat is not None:
            heartbeat.beat()
        clock.sleep(min(remaining, LONGEST_NAP_SECONDS))


def run_schedule(
    *,
    schedules: Schedules,
    identifiers: Sequence[str],
    clock: Clock,
    job: Callable[[tuple[str, ...]], object],
    bound: Callable[[int], timedelta],
    heartbeat: HeartbeatWriter | None = None,
    runs: int | None = None,
    meanwhile: Callable[[datetime], None] | None = None,
) -> None:
    """Run ``job`` with the services of ``identifiers`` whose time of ``schedules`` came,
    forever or ``runs`` times (which services a run takes: :class:`Timetable`).

    A job that raises an ordinary exception is logged and the schedule goes on.
    The heartbeat is told the run it waits for, then each run and the time
    (``bound`` of its number of services after its start) by which it must have
    ended: ``health`` judges from them whether the loop makes progress. Before each
    run, ``meanwhile`` is given its time, to do what is due before it (the scheduled
    verifications); the run starts once that returns, at once if its time has come
    meanwhile, and takes every service whose time has come by then.
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
        if meanwhile is not None:
            meanwhile(due)
        if heartbeat is not None:  # a time passed meanwhile: the run starts now, not late
            heartbeat.waiting(max(due, clock.now()))
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
