"""What is said of the scheduled verifications (``VERIFY_SCHEDULE``): the lines
``controller start`` logs of each, and what ``status`` and ``status --json`` show. Pure."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from pg_backup_manager.domain.history import RunRecord
from pg_backup_manager.domain.monitoring.pitr_rules import span
from pg_backup_manager.domain.ports import Schedule
from pg_backup_manager.domain.verification.model import Found, Verification
from pg_backup_manager.domain.verification.status import Verified, VerifyStatus
from pg_backup_manager.entrypoints.rendering.documents import time

Logged = tuple[int, str]


def verified_lines(found: Sequence[Verification]) -> list[Logged]:
    """Return what to log of one database's scheduled verifications, with each line's level."""
    lines: list[Logged] = []
    for verification in found:
        identifier = verification.database.identifier
        if verification.found is Found.SKIPPED:
            lines.append((logging.INFO, f"{identifier}: {verification.problem}: nothing verified"))
            continue
        kind = "off-site copy" if verification.offsite else "backup"
        backup = verification.backup
        subject = f"the newest {kind}" if backup is None else f"{kind} {backup}"
        if verification.found is Found.PASSED:
            said = (
                f"{identifier}: verified {subject}: restored into a scratch database, the rows "
                f"of its {verification.tables} table(s) counted as in the archive"
            )
            lines.append((logging.INFO, said))
        else:
            said = (
                f"{identifier}: scheduled verification of {subject} FAILED: {verification.problem}"
            )
            lines.append((logging.ERROR, said))
    return lines


def verify_lines(status: VerifyStatus, schedule: Schedule) -> list[str]:
    """Return the lines of ``status`` that say how its scheduled verifications went."""
    lines = [f"  last verify:      {_last(status, status.local)}"]
    if status.offsite is not None:
        lines.append(f"  off-site verify:  {_last(status, status.offsite)}")
    local = schedule.local(status.next_run_at).isoformat()
    lines.append(f"  next verify:      {time(status.next_run_at)} ({local})")
    return lines


def _last(status: VerifyStatus, verified: Verified) -> str:
    last = verified.last
    if last is None:
        return "none yet"
    ago = span(max(status.now - last.finished_at, timedelta(0)))
    said = f"{last.backup or '(no backup)'} at {time(last.finished_at)} ({ago} ago): "
    if not verified.failed:
        return said + "passed"
    said += f"FAILED: {last.error or '(no error recorded)'}"
    if verified.last_success is not None:
        said += f"; last passed {time(verified.last_success.finished_at)}"
    return said


def verify_entry(status: VerifyStatus) -> dict[str, Any]:
    """Return what ``status --json`` says of a database's scheduled verifications: the last
    of its newest backup, when the next is due, whether none failed, and with
    ``VERIFY_REMOTE`` the last of its newest off-site copy (``offsite``)."""
    entry = _kind(status.local) | {
        "healthy": status.healthy,
        "next_run_at": time(status.next_run_at),
    }
    if status.offsite is not None:
        entry["offsite"] = _kind(status.offsite)
    return entry


def _kind(verified: Verified) -> dict[str, Any]:
    last: RunRecord | None = verified.last
    return {
        "backup": None if last is None else last.backup,
        "verified_at": None if last is None else time(last.finished_at),
        "outcome": None if last is None else last.outcome.value,
        "error": None if last is None else last.error,
        "last_success_at": (
            None if verified.last_success is None else time(verified.last_success.finished_at)
        ),
    }
