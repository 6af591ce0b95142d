"""What monitoring needs: the scheduler's heartbeat (written by the scheduler, read by
``health`` and ``status``), and the two ways people are told: notifications of each
operation and the monitor that expects a ping at each scheduled run."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol

from pg_backup_manager.domain.history import RunRecord
from pg_backup_manager.domain.monitoring.health import SchedulerState
from pg_backup_manager.domain.ports import RunHistory


class HeartbeatWriter(Protocol):
    """The scheduler's side of the heartbeat: it tells the health check that it lives."""

    def beat(self) -> None:
        """Record that the scheduler is alive now; never raise."""

    def while_busy(self, *, since: datetime, until: datetime) -> AbstractContextManager[None]:
        """Record a run in progress since ``since`` that must end by ``until``, and keep
        beating while the block (the run) works; never raise."""

    def waiting(self, due: datetime) -> None:
        """Record that the scheduler waits for the run due at ``due``, and beat; never raise."""

    def started(self, at: datetime) -> None:
        """Record that the scheduler started at ``at``; never raise."""


class HeartbeatReader(Protocol):
    """The health check's side of the heartbeat: what the scheduler last said."""

    def started_at(self) -> datetime | None:
        """Return when the scheduler started, or None when that is unknown."""

    def state(self) -> SchedulerState | None:
        """Return what the scheduler last recorded doing, or None when that is unknown."""

    def age(self) -> float:
        """Return the seconds since the last beat.

        Raises:
            ControllerError: there is no beat of this controller's to read.
        """


class Notifier(Protocol):
    """Tells people of an operation that ended (Apprise, or a fake in the tests)."""

    def notify(self, identifier: str, record: RunRecord, *, resolves: bool = False) -> None:
        """Send ``record`` of ``identifier`` to whoever should hear of it (a failure, a
        success that ``resolves`` a failure told before, or every record with
        ``NOTIFY_ON=always``), in the background; never raise."""


class DeadMansSwitch(Protocol):
    """A monitor that expects a ping at each scheduled run (Healthchecks.io and alike)."""

    def started(self, identifiers: Iterable[str]) -> None:
        """Say that a run of ``identifiers`` started; never raise."""

    def finished(self, identifiers: Iterable[str], errors: Mapping[str, str]) -> None:
        """Say that it ended (or how things stand now, between runs); ``errors`` holds
        each failed database's error. Never raise."""


class HistoryReads(Protocol):
    """The run histories, read for one question (a status page, ``/status.json``, a scrape)."""

    def read_once(self) -> RunHistory:
        """Return the histories as they are now: each read at its first question, once,
        however many answers (records, totals, unreadable lines) are asked of it."""
