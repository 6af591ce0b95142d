"""What ``status`` and ``status --json`` say of a service's WAL archiving (its
:class:`~pg_backup_manager.domain.monitoring.pitr_status.PitrStatus`). Pure."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pg_backup_manager.domain.monitoring.pitr_rules import span
from pg_backup_manager.domain.monitoring.pitr_status import PitrStatus
from pg_backup_manager.domain.pitr.model import ReceiverCondition
from pg_backup_manager.domain.pitr.windows import shown_bounds
from pg_backup_manager.entrypoints.rendering.backups import size
from pg_backup_manager.entrypoints.rendering.documents import time


def pitr_lines(status: PitrStatus) -> list[str]:
    """Return the lines of ``status`` in ``status``'s block of its database, indented."""
    lines = [f"  WAL receiver:     {receiver_line(status)}"]
    last = status.last_segment
    if last is None:
        lines.append("  last WAL:         none received")
    else:
        ago = span(max(status.now - last.received_at, timedelta(0)))
        lines.append(f"  last WAL:         {last.name} at {time(last.received_at)} ({ago} ago)")
    slot = status.slot
    if slot is not None:
        held = "unknown" if slot.retained_bytes is None else size(slot.retained_bytes)
        lines.append(
            f"  slot:             {slot.name} {slot.wal_status or 'unknown'}, holds {held} "
            "on the server (the WAL not yet received)"
        )
    window = status.newest_window
    if window is None:
        lines.append("  recoverable:      no window yet")
    else:
        reach = "the newest WAL in it" if status.newest_wal_in_window else "NOT the newest WAL"
        start, end = shown_bounds(window)
        lines.append(
            f"  recoverable:      {start} to {end} ({len(status.windows)} window(s); {reach})"
        )
    base = status.newest_base
    if base is None:
        lines.append("  base backup:      none in the live stream")
    else:
        lines.append(f"  base backup:      {base.name} ({span(status.now - base.started_at)} old)")
    lines.extend(f"  WAL fault:        {fault}" for fault in status.faults)
    return lines


def receiver_line(status: PitrStatus) -> str:
    """Return what the WAL receiver of ``status`` last did: receiving or down, since when,
    its stream, why it is down."""
    state = status.receiver
    if state is None:
        return "unknown (no pitr/receiver.json: is 'controller start' running?)"
    said = f"{state.condition.value} since {time(state.since)}"
    if state.stream is not None:
        said += f", stream {state.stream}"
    if state.condition is ReceiverCondition.DOWN and state.error:
        said += f": {state.error}"
    return said


def pitr_entry(status: PitrStatus) -> dict[str, Any]:
    """Return the ``pitr`` object of ``status --json`` for ``status``."""
    state, slot, window = status.receiver, status.slot, status.newest_window
    last, base = status.last_segment, status.newest_base
    return {
        "healthy": status.healthy,
        "faults": list(status.faults),
        "receiver": None if state is None else state.condition.value,
        "receiver_since": None if state is None else time(state.since),
        "receiver_error": None if state is None else state.error,
        "checked_at": None if state is None else time(state.checked_at),
        "stream": None if status.stream is None else status.stream.name,
        "last_segment": None if last is None else last.name,
        "last_segment_at": None if last is None else time(last.received_at),
        "lag_bytes": status.lag_bytes,
        "slot": None
        if slot is None
        else {
            "name": slot.name,
            "active": slot.active,
            "wal_status": slot.wal_status,
            "retained_bytes": slot.retained_bytes,
            "safe_wal_size": slot.safe_wal_size,
        },
        "windows": len(status.windows),
        "window_start_at": None if window is None else shown_bounds(window)[0],
        "window_end_at": None if window is None else shown_bounds(window)[1],
        "newest_wal_in_window": status.newest_wal_in_window,
        "newest_base_backup": None if base is None else base.name,
        "newest_base_backup_age_seconds": (
            None if base is None else int((status.now - base.started_at).total_seconds())
        ),
        "max_delay_seconds": int(status.limits.max_delay.total_seconds()),
        "base_backup_max_age_seconds": int(status.limits.base_max_age.total_seconds()),
        "slot_alert_bytes": status.limits.slot_alert_bytes,
        "damaged_streams": [broken.name for broken in status.damaged],
    }
