"""Telling people: the last step of every operation, and of every scheduled run.

Two channels, held together here: a notification of each operation that ended
(its record, told right after it is written to the history), and the dead-man's
switch pinged at the start and at the end of each scheduled run with what failed.
Neither ever delays or fails what it tells of: both ports return at once and
never raise.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import attrs

from pg_backup_manager.domain.history import RunRecord
from pg_backup_manager.domain.monitoring.ports import DeadMansSwitch, Notifier
from pg_backup_manager.domain.ports import RunRecorder


@attrs.frozen(kw_only=True)
class Tell:
    """Whoever hears of the controller's work: ``notifier`` of each operation, ``pings`` of
    each scheduled run."""

    notifier: Notifier
    pings: DeadMansSwitch

    def operation_ended(self, identifier: str, record: RunRecord) -> None:
        """Notify people of ``record`` of ``identifier`` (failures only, unless always)."""
        self.notifier.notify(identifier, record)

    def run_started(self, identifiers: Iterable[str]) -> None:
        """Ping the start of a scheduled run of ``identifiers``."""
        self.pings.started(identifiers)

    def run_ended(self, identifiers: Iterable[str], failures: Mapping[str, str]) -> None:
        """Ping the end of a scheduled run; ``failures`` holds each failed database's
        one-line error (the run report's ``failures``)."""
        self.pings.finished(identifiers, failures)


@attrs.frozen(kw_only=True)
class Journal:
    """The record and tell steps of every operation (dump, scheduled run, sync, prune,
    restore, verify...): its record goes to the ``history``, then people are told of it.

    Use cases receive it as their :class:`~pg_backup_manager.domain.ports.RunRecorder`
    and call it once per database, when the operation ends
    (:func:`~pg_backup_manager.domain.recording.recorded`).
    """

    history: RunRecorder
    tell: Tell

    def record(self, identifier: str, record: RunRecord) -> None:
        """Write ``record`` of ``identifier`` to the history, then tell of it; never raise."""
        self.history.record(identifier, record)
        self.tell.operation_ended(identifier, record)
