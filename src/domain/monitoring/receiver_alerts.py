"""Alerts on a WAL receiver, judged from each state its supervisor writes: down longer
than ``WAL_MAX_DELAY`` (the dead-man's switch hears ``/fail``, then success when it is
back), and a slot that holds too much WAL or is in danger (one record and notification
when it crosses, not one per check).

The supervisor writes its state at every start, every failure (each retry while the
server is away, at most a minute apart) and every slot check (30 s): these are the
moments judged, by the very rules ``health`` applies (:mod:`.pitr_status`).
"""

from __future__ import annotations

from datetime import timedelta

import attrs

from pg_backup_manager.domain.history import Operation, Outcome, RunRecord
from pg_backup_manager.domain.monitoring.pitr_rules import receiver_fault, slot_fault
from pg_backup_manager.domain.monitoring.telling import Tell
from pg_backup_manager.domain.pitr.model import ReceiverCondition, ReceiverState
from pg_backup_manager.domain.pitr.receiver_ports import ReceiverStates
from pg_backup_manager.domain.ports import Clock, RunRecorder

# The notes of the records of a slot's alert and of its end.
SLOT_ALERT = "slot alert"
SLOT_CLEAR = "slot back under WAL_SLOT_ALERT_SIZE"


@attrs.frozen(kw_only=True)
class ReceiverAlerts:
    """The ReceiverStates port around ``states``: each state is written there, then judged.

    ``max_delay`` is ``WAL_MAX_DELAY``; ``slot_alert_bytes`` is ``WAL_SLOT_ALERT_SIZE``.
    A slot alert is recorded (and so notified, as a failure) once when it begins; it
    ends, recorded as a success, once the slot is safe and holds under half of
    ``slot_alert_bytes``, so a slot hovering at the limit alerts once.
    """

    states: ReceiverStates
    run_log: RunRecorder
    tell: Tell
    clock: Clock
    max_delay: timedelta
    slot_alert_bytes: int
    # The services whose slot alert is on (one thread per service writes its own).
    _slot_alerts: set[str] = attrs.field(factory=set, init=False, eq=False, repr=False)

    def write(self, identifier: str, state: ReceiverState) -> None:
        """Write ``state`` of ``identifier``'s receiver, then tell what changed; never raise."""
        self.states.write(identifier, state)
        now = self.clock.now()
        down = receiver_fault(state, now=now, max_delay=self.max_delay)
        if down is not None:
            self.tell.receiver_down(identifier, down)
        elif state.condition is ReceiverCondition.RECEIVING:
            self.tell.receiver_back(identifier)
        self._judge_slot(identifier, state)

    def read(self, identifier: str) -> ReceiverState | None:
        """Return the state last written for ``identifier`` (see :class:`ReceiverStates`)."""
        return self.states.read(identifier)

    def _judge_slot(self, identifier: str, state: ReceiverState) -> None:
        slot = state.slot
        if slot is None:  # not seen at this write: nothing changes
            return
        fault = slot_fault(slot, alert_bytes=self.slot_alert_bytes)
        if fault is not None and identifier not in self._slot_alerts:
            self._slot_alerts.add(identifier)
            self._record(identifier, Outcome.FAILURE, error=fault, note=SLOT_ALERT)
            return
        held = slot.retained_bytes or 0
        if fault is None and identifier in self._slot_alerts and held < self.slot_alert_bytes / 2:
            self._slot_alerts.discard(identifier)
            self._record(identifier, Outcome.SUCCESS, error=None, note=SLOT_CLEAR)

    def _record(self, identifier: str, outcome: Outcome, *, error: str | None, note: str) -> None:
        now = self.clock.now()
        self.run_log.record(
            identifier,
            RunRecord(
                operation=Operation.WAL_RECEIVER,
                started_at=now,
                finished_at=now,
                outcome=outcome,
                error=error,
                note=note,
            ),
        )
