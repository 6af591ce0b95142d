"""The run history of each database: ``history.jsonl`` in its backup directory (the
RunLog port).

One JSON object a line, oldest first, the newest 1000 kept. A record is added
by one ``write`` in append mode, or, once the file is full, by writing the
newest records to a new file that replaces the old one: never half a record.
Each line also carries the running totals of the outcomes of backup runs, so
that counters survive the trimming.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs

from pg_backup_manager.adapters import files
from pg_backup_manager.domain.errors import ControllerError
from pg_backup_manager.domain.history import BACKUP_OPERATIONS, Operation, Outcome, RunRecord
from pg_backup_manager.domain.model import Layout

HISTORY_NAME = "history.jsonl"
KEEP = 1000
_STAMP = "%Y-%m-%dT%H:%M:%SZ"
log = logging.getLogger(__name__)


@attrs.frozen(kw_only=True)
class JsonlRunLog:
    """Run histories as JSON lines beside each database's backups."""

    layout: Layout
    file_mode: int = 0o600
    keep: int = KEEP

    def record(self, identifier: str, record: RunRecord) -> None:
        """Add ``record``; a history that cannot be written is logged, never raised."""
        try:
            self._add(identifier, record)
        except (OSError, ValueError, ControllerError) as error:
            log.warning(
                "%s: the run history could not be written (%s); the %s itself %s",
                identifier,
                getattr(error, "strerror", None) or error,
                record.operation.value,
                "succeeded" if record.outcome is Outcome.SUCCESS else "failed",
            )

    def records(self, identifier: str) -> list[RunRecord]:
        """Return the history of ``identifier``, oldest first; unreadable lines are skipped."""
        return [_record(line) for line in self._lines(identifier) if line]

    def totals(self, identifier: str) -> dict[Outcome, int]:
        """Return how many backup runs of ``identifier`` ended each way, ever."""
        lines = self._lines(identifier)
        return _totals(lines[-1] if lines else None)

    def _path(self, identifier: str) -> Path:
        return Path(self.layout.backup_dir(identifier)) / HISTORY_NAME

    def _lines(self, identifier: str) -> list[dict[str, Any]]:
        try:
            text = self._path(identifier).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return []
        return [line for line in map(_parsed, text.splitlines()) if line]

    def _add(self, identifier: str, record: RunRecord) -> None:
        path = self._path(identifier)
        files.make_dir(path.parent)
        with _locked(path, self.file_mode) as descriptor:
            lines = self._lines(identifier)
            totals = _totals(lines[-1] if lines else None)
            if record.operation in BACKUP_OPERATIONS:
                totals[record.outcome] += 1
            line = _line(record, totals)
            if len(lines) < self.keep:
                os.write(descriptor, line.encode())
                return
            kept = [json.dumps(old, sort_keys=True) + "\n" for old in lines[-(self.keep - 1) :]]
            temporary = path.with_name(f".{HISTORY_NAME}.{os.getpid()}.new")
            try:
                files.create_empty(temporary, self.file_mode)
                temporary.write_text("".join([*kept, line]), encoding="utf-8")
                files.fsync(temporary)
                os.replace(temporary, path)
            finally:
                temporary.unlink(missing_ok=True)


@contextlib.contextmanager
def _locked(path: Path, mode: int) -> Iterator[int]:
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, mode)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield descriptor
    finally:
        os.close(descriptor)


def _line(record: RunRecord, totals: dict[Outcome, int]) -> str:
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
    return json.dumps(fields, sort_keys=True) + "\n"


def _parsed(text: str) -> dict[str, Any] | None:
    try:
        fields = json.loads(text)
        _record(fields)
    except (ValueError, KeyError, TypeError):
        return None
    return fields if isinstance(fields, dict) else None


def _record(fields: dict[str, Any]) -> RunRecord:
    return RunRecord(
        operation=Operation(fields["operation"]),
        started_at=_parse_time(fields["started_at"]),
        finished_at=_parse_time(fields["finished_at"]),
        outcome=Outcome(fields["outcome"]),
        backup=fields.get("backup"),
        size_bytes=fields.get("size_bytes"),
        sha256=fields.get("sha256"),
        error=fields.get("error"),
        pg_dump_version=fields.get("pg_dump_version"),
        server_version=fields.get("server_version"),
        not_offsite=_names(fields.get("not_offsite")),
        confirmed_offsite=_checksums(fields.get("confirmed_offsite")),
        unusable_offsite=_names(fields.get("unusable_offsite")),
    )


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


def _totals(last: dict[str, Any] | None) -> dict[Outcome, int]:
    last = last or {}
    return {
        Outcome.SUCCESS: int(last.get("runs_success", 0)),
        Outcome.FAILURE: int(last.get("runs_failure", 0)),
    }


def _time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(_STAMP)


def _parse_time(text: str) -> datetime:
    return datetime.strptime(text, _STAMP).replace(tzinfo=UTC)
