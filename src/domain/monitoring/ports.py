"""What monitoring needs: the scheduler's heartbeat, and the monitor that expects a ping at
each run."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol

from pg_backup_manager.domain.monitoring.health import SchedulerState


class Heartbeat(Protocol):
    """Tells the container's health check that the scheduler lives."""

    def beat(self) -> None:
        """Record that the scheduler is alive now; never raise."""

    def while_busy(self, *, since: datetime, until: datetime) -> AbstractContextManager[None]:
        """Record a run in progress since ``since`` that must end by ``until``, and keep
        beating while the block (the run) works; never raise."""

    def waiting(self, due: datetime) -> None:
        """Record that the scheduler waits for the run due at ``due``, and beat; never raise."""

    def started(self, at: datetime) -> None:
        """Record that the scheduler started at ``at``; never raise."""

    def started_at(self) -> datetime | None:
        """Return when the scheduler started, or None when that is unknown."""

    def state(self) -> SchedulerState | None:
        """Return what the scheduler last recorded doing, or None when that is unknown."""

    def age(self) -> float:
        """Return the seconds since the last beat.

        Raises:
            ControllerError: there is no beat of this controller's to read.
        """


class DeadMansSwitch(Protocol):
    """A monitor that expects a ping at each scheduled run (Healthchecks.io and alike)."""

    def started(self, identifiers: Iterable[str]) -> None:
        """Say that a run of ``identifiers`` started; never raise."""

    def finished(self, identifiers: Iterable[str], errors: Mapping[str, str]) -> None:
        """Say that it ended; ``errors`` holds each failed database's error. Never raise."""
