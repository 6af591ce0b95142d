"""The lines of ``history.jsonl``: a record as one line of JSON, and back, read as outside
data (a line that is not a record is one unreadable line; any other field of the wrong
type is unknown, never an error), with the running totals each line carries."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any, TypeVar

import attrs

from pg_backup_manager.domain.history import BACKUP_OPERATIONS, Operation, Outcome, RunRecord

_STAMP = "%Y-%m-%dT%H:%M:%SZ"
# The stamp as the controller writes it: read without strptime (the slowest part of a
# history's reading); any other form goes through strptime, which decides it.
_WRITTEN = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})Z")
_TOTALS = {Outcome.SUCCESS: "runs_success", Outcome.FAILURE: "runs_failure"}
_Choice = TypeVar("_Choice", Operation, Outcome)


@attrs.frozen(kw_only=True)
class Line:
    """A line of the history that could be read: its record and all its fields."""

    record: RunRecord
    fields: dict[str, Any]


def parsed(data: bytes) -> tuple[list[Line], int]:
    """Return the lines of ``data`` that hold a record, oldest first, and how many
    non-blank lines do not."""
    lines: list[Line] = []
    unreadable = 0
    for raw in data.splitlines():
        if not raw.strip():
            continue
        line = _parsed_line(raw)
        if line is None:
            unreadable += 1
        else:
            lines.append(line)
    return lines, unreadable


def _parsed_line(raw: bytes) -> Line | None:
    try:
        fields = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):  # not UTF-8, not JSON, or nested too deep
        return None
    if not isinstance(fields, dict):
        return None
    record = _record(fields)
    return None if record is None else Line(record=record, fields=fields)


def _record(fields: dict[str, Any]) -> RunRecord | None:
    """Return the record of ``fields``; None without a valid operation, outcome and times.
    Any other field of the wrong type is unknown (None)."""
    operation = _choice(Operation, fields.get("operation"))
    outcome = _choice(Outcome, fields.get("outcome"))
    started = _moment(fields.get("started_at"))
    finished = _moment(fields.get("finished_at"))
    if operation is None or outcome is None or started is None or finished is None:
        return None
    return RunRecord(
        operation=operation,
        started_at=started,
        finished_at=finished,
        outcome=outcome,
        backup=_text(fields.get("backup")),
        size_bytes=_count(fields.get("size_bytes")),
        sha256=_text(fields.get("sha256")),
        error=_text(fields.get("error")),
        pg_dump_version=_text(fields.get("pg_dump_version")),
        server_version=_text(fields.get("server_version")),
        not_offsite=_names(fields.get("not_offsite")),
        confirmed_offsite=_checksums(fields.get("confirmed_offsite")),
        unusable_offsite=_names(fields.get("unusable_offsite")),
        note=_text(fields.get("note")),
        partial=fields.get("partial") is True,
        left_out=_names(fields.get("left_out")) or (),
    )


def totals(data: bytes) -> dict[Outcome, int]:
    """Return the running totals at the end of the history ``data``."""
    return {outcome: _total(data, outcome) for outcome in Outcome}


def _total(data: bytes, outcome: Outcome) -> int:
    """Return the newest valid total of ``outcome`` plus the backup runs with that outcome
    recorded after it (all of them, without one). Reads from the end, usually no further
    than the last line."""
    later = 0
    for line in filter(None, map(_parsed_line, reversed(data.splitlines()))):
        total = _count(line.fields.get(_TOTALS[outcome]))
        if total is not None:
            return total + later
        if line.record.operation in BACKUP_OPERATIONS and line.record.outcome is outcome:
            later += 1
    return later


def encoded(record: RunRecord, totals: dict[Outcome, int]) -> bytes:
    """Return ``record`` as one line of JSON, newline included, carrying ``totals``."""
    fields: dict[str, Any] = {
        "operation": record.operation.value,
        "started_at": _time(record.started_at),
        "finished_at": _time(record.finished_at),
        "outcome": record.outcome.value,
        "backup": record.backup,
        "size_bytes": record.size_bytes,
        "sha256": record.sha256,
        "error": record.error,
        "pg_dump_version": record.pg_dump_version,
        "server_version": record.server_version,
        "runs_success": totals[Outcome.SUCCESS],
        "runs_failure": totals[Outcome.FAILURE],
    }
    if record.not_offsite is not None:  # a sync's: other records' lines stay as they were
        fields["not_offsite"] = list(record.not_offsite)
    if record.confirmed_offsite is not None:  # a sync's too: {name: SHA-256}
        fields["confirmed_offsite"] = dict(record.confirmed_offsite)
    if record.unusable_offsite:  # a sync's too, only when it found one
        fields["unusable_offsite"] = list(record.unusable_offsite)
    if record.note is not None:  # the WAL receiver's starts and new streams
        fields["note"] = record.note
    if record.partial:  # a partial backup made or restored: what left something out
        fields["partial"] = True
        fields["left_out"] = list(record.left_out)
    return (json.dumps(fields, sort_keys=True) + "\n").encode()


def _choice(kind: type[_Choice], value: object) -> _Choice | None:
    if not isinstance(value, str):
        return None
    try:
        return kind(value)
    except ValueError:
        return None


def _moment(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        if written := _WRITTEN.fullmatch(value):
            year, month, day, hour, minute, second = map(int, written.groups())
            return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
        return datetime.strptime(value, _STAMP).replace(tzinfo=UTC)
    except ValueError:
        return None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _count(value: object) -> int | None:
    """Return ``value`` if it is a whole number of zero or more (bool is not); else None."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


def _names(value: object) -> tuple[str, ...] | None:
    """Return a list of names as a tuple; None for anything else (unknown, not a reason to
    skip the line)."""
    if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
        return None
    return tuple(value)


def _checksums(value: object) -> tuple[tuple[str, str], ...] | None:
    """Return ``{name: SHA-256}`` as pairs; None for anything else (absent from older
    records; strange: it confirms nothing, and is no reason to skip the line)."""
    if not isinstance(value, dict) or not all(
        isinstance(name, str) and isinstance(sha256, str) for name, sha256 in value.items()
    ):
        return None
    return tuple(value.items())


def _time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(_STAMP)
