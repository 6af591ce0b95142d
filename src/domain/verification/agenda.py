"""When ``controller start`` verifies which database, between its backup runs: pure
decisions over the clock, the backups' next run and the verification schedule.

The scheduler does one thing at a time, so a scheduled verification never runs beside a
scheduled backup run, and never beside another verification. It verifies one database
at a time; between two databases it looks whether a backup run is due, and runs that
first. Nothing that is due is dropped: a backup run due during a verification starts
once that database's verification ends, and a verification due during a backup run
starts once the run ends (once, however many of its times the run covered, as the
backup runs do).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import attrs

from pg_backup_manager.domain.ports import Schedule

# What one verification of one copy may take, in units of its bounds: the check's read of
# the archive, the globals' read, the restore and the archive's row counts each
# BACKUP_TIMEOUT; what the server is asked (leftovers, scratch database made, counted,
# dropped) each its administration timeout; the lock LOCK_TIMEOUT. An off-site copy
# also has its download, which BACKUP_TIMEOUT bounds as it bounds an upload.
_TOOL_TIMEOUTS = 4
_SERVER_TIMEOUTS = 4


@attrs.frozen(kw_only=True)
class Agenda:
    """Where the scheduled verifications stand: the databases the pass in progress has yet
    to verify, in order, and when the next pass is due."""

    due_at: datetime
    pending: tuple[str, ...] = ()

    @classmethod
    def after(cls, schedule: Schedule, now: datetime) -> Agenda:
        """Return the agenda of a scheduler starting at ``now``: nothing pending, the first
        pass at the schedule's first time after it."""
        return cls(due_at=schedule.next_after(now))


@attrs.frozen
class Verify:
    """Verify ``identifier`` now; ``begins`` is the time of the pass it begins (None: it
    goes on with a pass already begun)."""

    identifier: str
    begins: datetime | None = None


@attrs.frozen
class WaitUntil:
    """Nothing is due before ``moment``, when the next pass of verifications is."""

    moment: datetime


@attrs.frozen
class BackupsFirst:
    """The backup run is due, or due before anything else: run it (or wait for it) first."""


Step = Verify | WaitUntil | BackupsFirst


def next_step(
    agenda: Agenda,
    *,
    now: datetime,
    backup_due: datetime | None,
    identifiers: Sequence[str],
    schedule: Schedule,
) -> tuple[Step, Agenda]:
    """Return what the scheduler does next at ``now`` and the agenda after it.

    ``backup_due`` is when the next backup run is due (None: there are none, outside
    production). A backup run that is due goes first (and so when a pass and a run are
    due at the same time: the backup that the pass would verify is then the newest);
    then the next database of the pass in progress; then a pass that is due, of every
    one of ``identifiers``, the next pass being due at the schedule's first time after
    ``now``. Otherwise the scheduler waits for whichever comes first.
    """
    if backup_due is not None and now >= backup_due:
        return BackupsFirst(), agenda
    if agenda.pending:
        return Verify(agenda.pending[0]), attrs.evolve(agenda, pending=agenda.pending[1:])
    if now >= agenda.due_at and identifiers:
        first, *rest = identifiers
        after = Agenda(due_at=schedule.next_after(now), pending=tuple(rest))
        return Verify(first, begins=agenda.due_at), after
    if backup_due is not None and backup_due <= agenda.due_at:
        return BackupsFirst(), agenda
    return WaitUntil(agenda.due_at), agenda


def verification_bound(
    *, tool_timeout: float, server_timeout: float, lock_wait: float, remote: bool
) -> timedelta:
    """Return how long the verification of one database may take before ``health`` counts
    the scheduler stuck: per copy verified (the newest backup, and with ``remote`` the
    newest off-site copy, which also has its download), four tool timeouts
    (``BACKUP_TIMEOUT``), four of the server's and one ``LOCK_TIMEOUT``."""
    one = _TOOL_TIMEOUTS * tool_timeout + _SERVER_TIMEOUTS * server_timeout + lock_wait
    seconds = 2 * one + tool_timeout if remote else one
    return timedelta(seconds=seconds)
