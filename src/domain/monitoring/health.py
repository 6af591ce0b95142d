"""``health``: is the scheduler alive, and making progress?"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

import attrs

if TYPE_CHECKING:
    from pg_backup_manager.domain.monitoring.freshness import DatabaseStatus

Fault = Literal["silent", "overdue", "stuck"]

# What one database's part of a run may take, in units of its bounds: its dump, its
# globals, the two reads of its check and its upload each BACKUP_TIMEOUT; its dump and
# its retention each LOCK_TIMEOUT for the lock.
_DUMP_TIMEOUTS_PER_DATABASE = 5
_LOCK_WAITS_PER_DATABASE = 2


@attrs.frozen(kw_only=True)
class SchedulerState:
    """What the scheduler last said it was doing: waiting for the run due at ``due_at``,
    or running one since ``busy_since`` that must end by ``busy_until``."""

    due_at: datetime | None = None
    busy_since: datetime | None = None
    busy_until: datetime | None = None

    @property
    def deadline(self) -> datetime | None:
        """Return by when the scheduler must have moved on: the end of the run in
        progress, else the start of the run it waits for (None: it set none)."""
        return self.busy_until if self.busy_since is not None else self.due_at


@attrs.frozen(kw_only=True)
class Liveness:
    """The scheduler's heartbeat judged at ``now``: it is alive while its last beat is
    at most ``max_age`` old and it is not more than ``max_age`` past the deadline its
    ``state`` recorded (a run that should have started, or a run that should have ended).
    """

    age: float
    max_age: float
    state: SchedulerState | None = None
    now: datetime | None = None

    @property
    def late(self) -> float:
        """Return how many seconds the scheduler is past its deadline (0 when it is not)."""
        deadline = self.state.deadline if self.state is not None else None
        if deadline is None or self.now is None:
            return 0.0
        return max(0.0, (self.now - deadline).total_seconds())

    @property
    def fault(self) -> Fault | None:
        """Return why the scheduler is not alive: ``silent`` (no recent beat), ``overdue``
        (a run has not started), ``stuck`` (a run outlasted its bound); None if it is."""
        if self.age > self.max_age:
            return "silent"
        if self.late <= self.max_age:
            return None
        assert self.state is not None  # late is 0 without a state
        return "stuck" if self.state.busy_since is not None else "overdue"

    @property
    def alive(self) -> bool:
        """Return whether the heartbeat is fresh and the scheduler is on time."""
        return self.fault is None


def run_bound(
    *, databases: int, dump_timeout: float, lock_wait: float, hooks: float = 0.0
) -> timedelta:
    """Return how long a scheduled run of ``databases`` may take before it counts as stuck.

    Each database's part is bounded by the tools' timeout (``BACKUP_TIMEOUT``,
    ``dump_timeout``) and the lock's wait (``LOCK_TIMEOUT``, ``lock_wait``): five
    of the one (dump, globals, two reads of the check, upload) and two of the other.
    Databases are counted one after another, as if dumped one at a time, and so are
    the commands run before and after their backups, which may take ``hooks`` seconds
    in all.
    """
    per_database = _DUMP_TIMEOUTS_PER_DATABASE * dump_timeout + _LOCK_WAITS_PER_DATABASE * lock_wait
    return timedelta(seconds=databases * per_database + hooks)


class Verdict(enum.Enum):
    """What ``health`` concludes, worst first."""

    NO_HEARTBEAT = "no-heartbeat"  # nothing of the scheduler's to read: see ``problem``
    NOT_ALIVE = "not-alive"  # its heartbeat is too old, or it is late (see ``liveness``)
    ALIVE = "alive"  # liveness alone was asked, and the scheduler lives
    # Nothing is scheduled, so no backup is kept fresh (see ``faults_in_any_mode``).
    NOT_PRODUCTION = "not-production"
    FAULTS = "faults"  # some database has no fresh backup
    HEALTHY = "healthy"


@attrs.frozen(kw_only=True)
class HealthReport:
    """Whether the scheduler lives (``liveness`` None: no heartbeat, see ``problem``) and
    (unless ``liveness_only``) whether every database has a fresh backup."""

    production: bool
    liveness: Liveness | None
    problem: str | None
    databases: tuple[DatabaseStatus, ...] = ()
    liveness_only: bool = False

    @property
    def alive(self) -> bool:
        """Return whether the scheduler's heartbeat is fresh and the scheduler on time."""
        return self.liveness is not None and self.liveness.alive

    @property
    def faults(self) -> tuple[DatabaseStatus, ...]:
        """Return the databases at fault: their backups not fresh, or (with WAL archiving
        on) their WAL (see :attr:`PitrStatus.faults`)."""
        return tuple(status for status in self.databases if not status.healthy)

    @property
    def faults_in_any_mode(self) -> tuple[DatabaseStatus, ...]:
        """Return the databases at fault for what ``controller start`` does whatever ``MODE``
        says, and ``health`` judges outside production too: their WAL archiving, or their
        last scheduled verification failed."""
        return tuple(
            status
            for status in self.databases
            if (status.pitr is not None and not status.pitr.healthy)
            or (status.verification is not None and not status.verification.healthy)
        )

    @property
    def verdict(self) -> Verdict:
        """Return what ``health`` concludes (see :class:`Verdict`)."""
        if self.liveness is None:
            return Verdict.NO_HEARTBEAT
        if not self.alive:
            return Verdict.NOT_ALIVE
        if self.liveness_only:
            return Verdict.ALIVE
        if not self.production:
            return Verdict.NOT_PRODUCTION
        return Verdict.FAULTS if self.faults else Verdict.HEALTHY

    @property
    def exit_code(self) -> int:
        """Return 0 when the verdict is good (alive, or healthy), else 1."""
        return 0 if self.verdict in {Verdict.ALIVE, Verdict.HEALTHY} else 1

    @property
    def healthy(self) -> bool:
        """Return whether the scheduler lives, in production, with fresh backups everywhere."""
        return self.production and self.alive and not self.faults
