"""The run history of each database: ``history.jsonl`` in its backup directory (the
RunLog port).

One JSON object a line, oldest first, the newest 1000 read. Each line also
carries the running totals of the outcomes of backup runs, so that counters
survive the trimming.

The file is outside data: a crash, a full disk, a hand edit or another program
may have left anything in it. So a record is appended whole or not at all (a
write cut short is undone); a writer that finds the last line cut starts on a
new line, so that line stays one bad line; a reader skips each line it cannot
read, and only that line, and counts them; a field of the wrong type is unknown,
never an error. Writers lock the file, and make sure the file they locked is
still the one at the path: trimming replaces it (once it holds a tenth more
than it keeps, so that most records are appends).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import logging
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import attrs

from pg_backup_manager.adapters import files
from pg_backup_manager.domain.history import BACKUP_OPERATIONS, Operation, Outcome, RunRecord
from pg_backup_manager.domain.model import Layout

HISTORY_NAME = "history.jsonl"
KEEP = 1000
_STAMP = "%Y-%m-%dT%H:%M:%SZ"
_TOTALS = {Outcome.SUCCESS: "runs_success", Outcome.FAILURE: "runs_failure"}
log = logging.getLogger(__name__)
_Choice = TypeVar("_Choice", Operation, Outcome)


@attrs.frozen(kw_only=True)
class _Line:
    """A line of the history that could be read: its record and all its fields."""

    record: RunRecord
    fields: dict[str, Any]


@attrs.frozen(kw_only=True)
class JsonlRunLog:
    """Run histories as JSON lines beside each database's backups."""

    layout: Layout
    file_mode: int = 0o600
    keep: int = KEEP

    def record(self, identifier: str, record: RunRecord) -> None:
        """Add ``record`` whole, or, if it cannot be, log a warning; never raise."""
        try:
            self._add(identifier, record)
        except Exception as error:  # the history must never fail the operation it records
            log.warning(
                "%s: the run history could not be written (%s); the %s itself %s",
                identifier,
                getattr(error, "strerror", None) or error,
                record.operation.value,
                "succeeded" if record.outcome is Outcome.SUCCESS else "failed",
            )

    def records(self, identifier: str) -> list[RunRecord]:
        """Return the newest records of ``identifier`` (``keep`` at most), oldest first;
        unreadable lines are skipped."""
        lines, _ = _parsed(_contents(self._path(identifier)))
        return [line.record for line in lines[-self.keep :]]

    def totals(self, identifier: str) -> dict[Outcome, int]:
        """Return how many backup runs of ``identifier`` ended each way, ever."""
        return _totals(_contents(self._path(identifier)))

    def unreadable_lines(self, identifier: str) -> int:
        """Return how many lines of the history of ``identifier`` could not be read."""
        _, unreadable = _parsed(_contents(self._path(identifier)))
        return unreadable

    def _path(self, identifier: str) -> Path:
        return Path(self.layout.backup_dir(identifier)) / HISTORY_NAME

    def _add(self, identifier: str, record: RunRecord) -> None:
        path = self._path(identifier)
        files.make_dir(path.parent)
        with _locked(path, self.file_mode) as descriptor:
            data = _read(descriptor)
            totals = _totals(data)
            if record.operation in BACKUP_OPERATIONS:
                totals[record.outcome] += 1
            line = _line(record, totals)
            present = [raw for raw in data.splitlines() if raw.strip()]
            if len(present) < self.keep + max(1, self.keep // 10):
                cut = data and not data.endswith(b"\n")  # a cut line stays one bad line
                _append(descriptor, b"\n" + line if cut else line, size=len(data))
                return
            kept = b"".join(raw + b"\n" for raw in present[-(self.keep - 1) :])
            temporary = path.with_name(f".{HISTORY_NAME}.{os.getpid()}.new")
            try:
                files.create_empty(temporary, self.file_mode)
                temporary.write_bytes(kept + line)
                files.fsync(temporary)
                os.replace(temporary, path)
            finally:
                temporary.unlink(missing_ok=True)


@contextlib.contextmanager
def _locked(path: Path, mode: int) -> Iterator[int]:
    """Yield a descriptor (read, append) of the file at ``path``, created if absent, locked
    while it is still the file at ``path``: a writer that trimmed it replaced it while
    others waited for the lock of the old one, which they must then leave."""
    while True:  # each turn means another writer replaced the file: it made progress
        descriptor = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, mode)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            if _is_at(descriptor, path):
                yield descriptor
                return
        finally:
            os.close(descriptor)


def _is_at(descriptor: int, path: Path) -> bool:
    opened = os.fstat(descriptor)
    try:
        named = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return (opened.st_dev, opened.st_ino) == (named.st_dev, named.st_ino)


def _read(descriptor: int) -> bytes:
    size = os.fstat(descriptor).st_size
    chunks: list[bytes] = []
    while size > 0:
        chunk = os.pread(descriptor, size, sum(map(len, chunks)))
        if not chunk:
            break
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _append(descriptor: int, data: bytes, *, size: int) -> None:
    """Append ``data`` whole, or leave the file at ``size`` bytes and raise OSError (a full
    disk cuts a write short, then refuses the rest)."""
    written = 0
    try:
        while written < len(data):
            count = os.write(descriptor, data[written:])
            if count == 0:
                raise OSError(errno.EIO, "nothing written")
            written += count
    except OSError:
        # Should even this fail, the next writer starts on a new line: the cut record
        # stays one unreadable line, which ``status`` counts.
        with contextlib.suppress(OSError):
            os.ftruncate(descriptor, size)
        raise


def _contents(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


def _parsed(data: bytes) -> tuple[list[_Line], int]:
    """Return the lines of ``data`` that hold a record, oldest first, and how many
    non-blank lines do not."""
    lines: list[_Line] = []
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


def _parsed_line(raw: bytes) -> _Line | None:
    try:
        fields = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):  # not UTF-8, not JSON, or nested too deep
        return None
    if not isinstance(fields, dict):
        return None
    record = _record(fields)
    return None if record is None else _Line(record=record, fields=fields)


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
    )


def _totals(data: bytes) -> dict[Outcome, int]:
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


def _line(record: RunRecord, totals: dict[Outcome, int]) -> bytes:
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


def _time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(_STAMP)
