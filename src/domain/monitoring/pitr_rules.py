"""The rules of point-in-time recovery's health, pure: a receiver down or silent too long,
a slot in danger. ``health``, ``status`` and the alerts of ``controller start`` apply
them alike (:mod:`.pitr_status`, :mod:`.receiver_alerts`)."""

from __future__ import annotations

from datetime import datetime, timedelta

import attrs

from pg_backup_manager.domain.pitr.model import (
    CONTROLLER_STOPPED,
    ReceiverCondition,
    ReceiverState,
    SlotState,
)

# Slot states in which the server may remove, or has removed, WAL the slot was to keep.
_SLOT_IN_DANGER = {
    "unreserved": "the server may remove WAL it holds at its next checkpoint "
    "(max_slot_wal_keep_size reached)",
    "lost": "the server removed WAL it held (max_slot_wal_keep_size): a new stream and "
    "base backup follow",
}


@attrs.frozen(kw_only=True)
class PitrLimits:
    """What the rules allow: ``max_delay`` (``WAL_MAX_DELAY``) for a receiver down or
    silent, ``base_max_age`` for the newest base backup (twice the longest gap of
    ``BASE_BACKUP_SCHEDULE``), ``slot_alert_bytes`` (``WAL_SLOT_ALERT_SIZE``)."""

    max_delay: timedelta
    base_max_age: timedelta
    slot_alert_bytes: int


def receiver_fault(
    state: ReceiverState | None,
    *,
    now: datetime,
    max_delay: timedelta,
    started_at: datetime | None = None,
) -> str | None:
    """Return why the receiver of a service is at fault, or None.

    It is when it has been down longer than ``max_delay`` (a controller's stop is no
    fault), or running but not caught up with its server for longer (its
    ``caught_up_at``, else since it started); and, once the ``controller start`` that
    began at ``started_at`` has run longer than ``max_delay``, when it never said
    anything or what it says was written before that start (each supervisor's first
    word is dated after it).
    """
    running = None if started_at is None else now - started_at
    if state is None or (started_at is not None and state.since < started_at):
        if running is None or running <= max_delay:
            return None
        if state is None:
            return (
                f"no word from its WAL receiver (pitr/receiver.json) in {span(running)}"
                " since 'controller start' began: is WAL archiving on where it runs?"
            )
        return (
            "its WAL receiver has said nothing since 'controller start' began "
            f"{span(running)} ago (pitr/receiver.json is older)"
        )
    if state.condition is ReceiverCondition.RECEIVING:
        # Running is not receiving: a hung receiver, or one slower than its server,
        # leaves WAL unarchived while it still looks up.
        proven = state.caught_up_at or state.since
        behind = now - proven
        if behind <= max_delay:
            return None
        return (
            f"WAL receiver has not caught up with its server for {span(behind)} (more than "
            f"WAL_MAX_DELAY, {span(max_delay)}): what the server wrote since is not archived"
        )
    if state.error == CONTROLLER_STOPPED:
        return None
    down = now - state.since
    if down <= max_delay:
        return None
    return (
        f"WAL receiver down for {span(down)} (more than WAL_MAX_DELAY, "
        f"{span(max_delay)}): {state.error or '(no error recorded)'}"
    )


def slot_fault(slot: SlotState | None, *, alert_bytes: int) -> str | None:
    """Return why ``slot`` endangers its server or the stream, or None: ``wal_status``
    ``unreserved`` or ``lost``, or more WAL held than ``alert_bytes``."""
    if slot is None:
        return None
    danger = _SLOT_IN_DANGER.get(slot.wal_status or "")
    if danger is not None:
        return f"slot {slot.name} is {slot.wal_status}: {danger}"
    held = slot.retained_bytes
    if held is not None and held > alert_bytes:
        return (
            f"slot {slot.name} holds {size(held)} of WAL on the server (more than "
            f"WAL_SLOT_ALERT_SIZE, {size(alert_bytes)}): is its receiver down?"
        )
    return None


def span(length: timedelta) -> str:
    """Return ``length`` as a person reads it: s, min, h or days."""
    seconds = length.total_seconds()
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.1f} days"


def size(amount: int) -> str:
    """Return ``amount`` bytes in MiB, or GiB from 1 GiB."""
    if amount >= 1 << 30:
        return f"{amount / (1 << 30):.1f} GiB"
    return f"{amount / (1 << 20):.0f} MiB"
