"""``controller start``'s restore tests (``VERIFY_SCHEDULE``): run by the scheduler's own
thread in the time between its backup runs, one database at a time, as the pure
:func:`~pg_backup_manager.domain.verification.agenda.next_step` decides."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import attrs

from pg_backup_manager.domain.verification.agenda import (
    Agenda,
    BackupsFirst,
    Verify,
    WaitUntil,
    next_step,
    verification_bound,
)
from pg_backup_manager.entrypoints.loop import busy, wait_until

if TYPE_CHECKING:
    from pg_backup_manager.adapters.settings import Settings
    from pg_backup_manager.domain.model import Database
    from pg_backup_manager.domain.monitoring.ports import HeartbeatWriter
    from pg_backup_manager.domain.ports import Clock, Schedule
    from pg_backup_manager.domain.verification.model import Verification, VerifySchedule

log = logging.getLogger("controller")


@attrs.define
class Verifications:
    """The scheduled verifications of ``databases`` on ``schedule``: ``verify`` verifies one
    database (and returns what it found), within ``bound`` for the heartbeat. ``databases``
    may be a function, asked again before each round: every database of a server
    (``<SERVICE>_POSTGRES_DB=*``) as this host knows them then."""

    databases: Sequence[Database] | Callable[[], Sequence[Database]]
    schedule: Schedule
    clock: Clock
    verify: Callable[[Database], Sequence[Verification]]
    bound: timedelta
    heartbeat: HeartbeatWriter | None = None
    agenda: Agenda | None = None

    def until(self, backup_due: datetime | None) -> None:
        """Run the verifications that are due, one database at a time, and wait for the next
        ones, until the backup run due at ``backup_due`` is due (forever without one).

        Returns when the backup run is due, or when nothing else comes before it: the
        caller then waits for it. A verification in progress is never cut short: a
        backup run due meanwhile starts once that database's verification ended.
        """
        found = self.databases() if callable(self.databases) else self.databases
        named = {database.identifier: database for database in found}
        if self.agenda is None:
            self.agenda = Agenda.after(self.schedule, self.clock.now())
        while True:
            step, self.agenda = next_step(
                self.agenda,
                now=self.clock.now(),
                backup_due=backup_due,
                identifiers=list(named),
                schedule=self.schedule,
            )
            match step:
                case BackupsFirst():
                    return
                case WaitUntil(moment=moment):
                    self._wait(moment)
                case Verify(identifier=identifier, begins=begins):
                    if begins is not None:
                        log.info("scheduled verification (due at %s) begins", self._shown(begins))
                    self._verify(named[identifier])
                    if backup_due is not None and self.clock.now() >= backup_due:
                        log.info(
                            "the scheduled backup due at %s starts now, after the verification "
                            "of %s",
                            self._shown(backup_due),
                            identifier,
                        )

    def _wait(self, moment: datetime) -> None:
        log.info("next scheduled verification at %s", self._shown(moment))
        if self.heartbeat is not None:
            self.heartbeat.waiting(moment)
        wait_until(moment, clock=self.clock, heartbeat=self.heartbeat)

    def _verify(self, database: Database) -> None:
        from pg_backup_manager.entrypoints.rendering.verification import verified_lines

        try:
            with busy(self.heartbeat, clock=self.clock, bound=self.bound):
                found = self.verify(database)
        except Exception:
            log.exception(
                "%s: the scheduled verification failed unexpectedly; the schedule goes on",
                database.identifier,
            )
            return
        for level, message in verified_lines(found):
            log.log(level, message)

    def _shown(self, moment: datetime) -> str:
        return self.schedule.local(moment).isoformat()


def scheduled(
    settings: Settings,
    asked: VerifySchedule,
    *,
    clock: Clock,
    heartbeat: HeartbeatWriter,
    verify: Callable[[Database], Sequence[Verification]],
    databases: Callable[[], Sequence[Database]] | None = None,
) -> Verifications:
    """Return the verifications ``asked`` (``VERIFY_SCHEDULE``, ``VERIFY_REMOTE``) of every
    database, each bounded as :func:`verification_bound` says."""
    remote = ", and of their newest off-site copies" if asked.remote else ""
    log.info("scheduled verifications of the newest backups%s on %s", remote, asked.schedule)
    bound = verification_bound(
        tool_timeout=settings.dump_timeout,
        server_timeout=settings.admin_timeout,
        lock_wait=settings.lock_wait,
        remote=asked.remote,
    )
    return Verifications(
        databases=databases or settings.config.databases,
        schedule=asked.schedule,
        clock=clock,
        verify=verify,
        bound=bound,
        heartbeat=heartbeat,
    )
