"""Point-in-time recovery in ``status``, ``health`` and the metrics: is each service's WAL
received, does it lie in a window, and is its slot safe? Pure rules, and the read of
what they judge (names, sizes and small JSON files: no tool runs, no server is asked).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import attrs

from pg_backup_manager.domain.errors import ControllerError, one_line
from pg_backup_manager.domain.model import Database
from pg_backup_manager.domain.monitoring.freshness import default_max_age
from pg_backup_manager.domain.monitoring.pitr_rules import (
    PitrLimits,
    receiver_fault,
    slot_fault,
    span,
)
from pg_backup_manager.domain.pitr.model import (
    DAMAGED_STREAM_ADVICE,
    BaseBackup,
    DamagedStream,
    ReceiverCondition,
    ReceiverState,
    Segment,
    SlotState,
    Stream,
    Window,
)
from pg_backup_manager.domain.pitr.ports import PitrStore
from pg_backup_manager.domain.pitr.receiver_ports import ReceiverStates
from pg_backup_manager.domain.pitr.windows import received_segments, service_windows
from pg_backup_manager.domain.ports import Schedule


@attrs.frozen(kw_only=True)
class PitrStatus:
    """What an operator wants to know about one service's WAL archiving, at ``now``.

    ``receiver`` is what its supervisor last wrote (None: nothing, or unreadable);
    ``started_at`` when the running ``controller start`` began (None: unknown);
    ``stream`` the live (newest) stream, ``last_segment`` the newest WAL it received,
    ``newest_base`` its newest base backup; ``windows`` every window of the service,
    oldest first; ``problem`` why the streams could not be read (then they are empty);
    ``damaged`` the stream directories whose facts are missing or broken.
    """

    database: Database
    now: datetime
    limits: PitrLimits
    receiver: ReceiverState | None = None
    started_at: datetime | None = None
    stream: Stream | None = None
    last_segment: Segment | None = None
    newest_base: BaseBackup | None = None
    windows: tuple[Window, ...] = ()
    problem: str | None = None
    damaged: tuple[DamagedStream, ...] = ()

    @property
    def slot(self) -> SlotState | None:
        """Return the slot as the supervisor last saw it (None: not seen)."""
        return None if self.receiver is None else self.receiver.slot

    @property
    def receiving(self) -> bool:
        """Return whether the supervisor last said its receiver is receiving."""
        return self.receiver is not None and self.receiver.condition is ReceiverCondition.RECEIVING

    @property
    def lag_bytes(self) -> int | None:
        """Return how many bytes of WAL the server has written that the receiver has not
        confirmed flushed: the server's position less the slot's ``restart_lsn``, which
        ``pg_receivewal --synchronous`` moves as it flushes. For this physical slot that is
        the WAL it holds (None: unknown)."""
        return None if self.slot is None else self.slot.retained_bytes

    @property
    def newest_window(self) -> Window | None:
        """Return the window that ends last (None: no window)."""
        return max(self.windows, key=lambda w: (w.end_at, w.start_at), default=None)

    @property
    def newest_wal_in_window(self) -> bool:
        """Return whether a recovery can reach the newest WAL received: a window of the
        live stream ends at its last segment."""
        if self.last_segment is None or self.stream is None:
            return False
        return any(
            w.stream.name == self.stream.name and w.segments[-1] == self.last_segment
            for w in self.windows
        )

    @property
    def faults(self) -> tuple[str, ...]:
        """Return what is wrong, one line each (none: healthy)."""
        return pitr_faults(self)

    @property
    def healthy(self) -> bool:
        """Return whether nothing is at fault."""
        return not self.faults


def pitr_faults(status: PitrStatus) -> tuple[str, ...]:
    """Return each fault of ``status``: its streams unreadable or damaged, its receiver (see
    :func:`receiver_fault`), its newest base backup older than ``base_max_age`` (none
    yet is no fault while its stream is younger than that), its slot (see
    :func:`slot_fault`)."""
    limits = status.limits
    found = [
        receiver_fault(
            status.receiver,
            now=status.now,
            max_delay=limits.max_delay,
            started_at=status.started_at,
        ),
        slot_fault(status.slot, alert_bytes=limits.slot_alert_bytes),
    ]
    if status.problem is not None:
        found.append(f"cannot read its streams: {status.problem}")
    found.extend(
        f"stream {broken.name} is damaged ({broken.reason}): never recovered from nor "
        f"pruned; {DAMAGED_STREAM_ADVICE}"
        for broken in status.damaged
    )
    newest, stream = status.newest_base, status.stream
    if newest is not None:
        age = status.now - newest.started_at
        if age > limits.base_max_age:
            found.append(
                f"newest base backup is {span(age)} old ({newest.name}), more than "
                f"{span(limits.base_max_age)}"
            )
    elif stream is not None and status.now - stream.started_at > limits.base_max_age:
        found.append(
            f"no base backup in stream {stream.name}, begun {span(status.now - stream.started_at)}"
            f" ago (more than {span(limits.base_max_age)})"
        )
    return tuple(fault for fault in found if fault is not None)


@attrs.frozen(kw_only=True)
class ReadPitrStatus:
    """Reads what the supervisor of each service last wrote and its streams (names, sizes,
    small JSON files) into its :class:`PitrStatus`.

    ``max_delay`` is ``WAL_MAX_DELAY``, ``slot_alert_bytes`` ``WAL_SLOT_ALERT_SIZE``; a
    base backup may be twice the longest gap of ``base_schedule`` old, as a dump may be
    of its schedule's (:func:`default_max_age`): two days for the default daily one.
    """

    store: PitrStore
    states: ReceiverStates
    base_schedule: Schedule
    max_delay: timedelta
    slot_alert_bytes: int

    def __call__(
        self, database: Database, *, now: datetime, started_at: datetime | None
    ) -> PitrStatus:
        """Return the status of ``database``'s WAL archiving at ``now``; ``started_at`` is
        when the running ``controller start`` began (None: unknown). Never raises a
        ControllerError: streams that cannot be read are its ``problem``."""
        identifier = database.identifier
        limits = PitrLimits(
            max_delay=self.max_delay,
            base_max_age=default_max_age(self.base_schedule, now=now),
            slot_alert_bytes=self.slot_alert_bytes,
        )
        status = PitrStatus(
            database=database,
            now=now,
            limits=limits,
            receiver=self.states.read(identifier),
            started_at=started_at,
        )
        try:
            contents = [
                self.store.contents(identifier, stream) for stream in self.store.streams(identifier)
            ]
            status = attrs.evolve(status, damaged=tuple(self.store.damaged(identifier)))
        except ControllerError as error:
            return attrs.evolve(status, problem=one_line(error))
        if not contents:
            return status
        live = max(contents, key=lambda c: (c.stream.started_at, c.stream.name))
        received = received_segments(live.stream, live.segments)
        return attrs.evolve(
            status,
            stream=live.stream,
            last_segment=received[-1] if received else None,
            newest_base=_newest(live.base_backups),
            windows=service_windows(contents),
        )


def _newest(bases: Sequence[BaseBackup]) -> BaseBackup | None:
    return max(bases, key=lambda b: (b.started_at, b.name), default=None)
