"""Telling people: the last step of every operation, and of every scheduled run.

Two channels, held together here: a notification of each operation that ended
(its record, told right after it is written to the history), and the dead-man's
switch pinged at the start and at the end of each scheduled run with what failed.
Neither ever delays or fails what it tells of: both ports return at once and
never raise.

WAL receivers (point-in-time recovery) run between the scheduled runs: the return
of a receiver whose stop was told is notified whatever ``NOTIFY_ON`` says, and a
receiver down too long is a failure the dead-man's switch hears at once and at the
end of every run, until it is back.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping

import attrs

from pg_backup_manager.domain.history import Operation, Outcome, RunRecord
from pg_backup_manager.domain.monitoring.ports import DeadMansSwitch, Notifier
from pg_backup_manager.domain.pitr.model import RECEIVER_STARTED
from pg_backup_manager.domain.ports import RunRecorder
from pg_backup_manager.domain.verification.model import PASSED_AGAIN


@attrs.frozen(kw_only=True)
class Tell:
    """Whoever hears of the controller's work: ``notifier`` of each operation, ``pings`` of
    each scheduled run."""

    notifier: Notifier
    pings: DeadMansSwitch
    # What the scheduler and the receivers' threads tell in turn: the services whose
    # receiver's stop was notified, those down too long (and why), the failure of each
    # service's last run.
    _stopped: set[str] = attrs.field(factory=set, init=False, eq=False, repr=False)
    _down: dict[str, str] = attrs.field(factory=dict, init=False, eq=False, repr=False)
    _run_failures: dict[str, str] = attrs.field(factory=dict, init=False, eq=False, repr=False)
    _lock: threading.Lock = attrs.field(factory=threading.Lock, init=False, eq=False, repr=False)

    def operation_ended(self, identifier: str, record: RunRecord) -> None:
        """Notify people of ``record`` of ``identifier``: failures only, unless always,
        and the start of a WAL receiver whose stop was notified (its return), and a
        scheduled verification that passed after one failed."""
        with self._lock:
            back = self._receiver_back(identifier, record) or record.note == PASSED_AGAIN
        self.notifier.notify(identifier, record, resolves=back)

    def _receiver_back(self, identifier: str, record: RunRecord) -> bool:
        if record.operation is not Operation.WAL_RECEIVER:
            return False
        if record.outcome is Outcome.FAILURE and record.note is None:  # the receiver stopped
            self._stopped.add(identifier)
            return False
        if record.note == RECEIVER_STARTED and identifier in self._stopped:
            self._stopped.discard(identifier)
            return True
        return False

    def run_started(self, identifiers: Iterable[str]) -> None:
        """Ping the start of a scheduled run of ``identifiers``."""
        self.pings.started(identifiers)

    def run_ended(self, identifiers: Iterable[str], failures: Mapping[str, str]) -> None:
        """Ping the end of a scheduled run of ``identifiers``; ``failures`` holds each failed
        database's one-line error (the run report's ``failures``), to which each receiver
        down too long adds its own. A service with a schedule of its own is not in every
        run: its last run's failure is said again until a run of it succeeds."""
        identifiers = list(identifiers)
        with self._lock:
            for identifier in identifiers:
                self._run_failures.pop(identifier, None)
            self._run_failures.update(failures)
            errors = self._errors()
            down = [i for i in self._down if i not in identifiers]
        self.pings.finished([*identifiers, *down], errors)

    def receiver_down(self, identifier: str, why: str) -> None:
        """Ping a failure when the WAL receiver of ``identifier`` is newly down too long
        (``why``, one line); every ping after it says so too, until it is back."""
        with self._lock:
            if identifier in self._down:
                return
            self._down[identifier] = f"WAL receiver: {why}"
            errors = self._errors()
        self.pings.finished([identifier], errors)

    def receiver_back(self, identifier: str) -> None:
        """Ping that the receiver of ``identifier`` told down is back: success, unless the
        last run or another receiver still failed (they are said again). Nothing for a
        receiver that was not told down."""
        with self._lock:
            if self._down.pop(identifier, None) is None:
                return
            errors = self._errors()
        self.pings.finished([identifier], errors)

    def _errors(self) -> dict[str, str]:
        """Return each service's last run's failure and each receiver down, one line a
        database."""
        errors = dict(self._run_failures)
        for identifier, why in self._down.items():
            errors[identifier] = f"{errors[identifier]}; {why}" if identifier in errors else why
        return errors


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
