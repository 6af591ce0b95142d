"""The run history of each database: ``history.jsonl`` in its backup directory (the
RunLog port).

One JSON object a line, oldest first, the newest 1000 read. Each line also
carries the running totals of the outcomes of backup runs, so that counters
survive the trimming.

The file is outside data: a crash, a full disk, a hand edit or another program
may have left anything in it. So a record is appended whole or not at all (a
write cut short is undone); a writer that finds the last line cut starts on a
new line, so that line stays one bad line; a reader skips each line it cannot
read, and only that line, and counts them (``history_lines``). Writers lock the
file, and make sure the file they locked is still the one at the path: trimming
replaces it (once it holds a tenth more than it keeps, so that most records are
appends).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import attrs

from pg_backup_manager.adapters.monitoring import history_lines
from pg_backup_manager.adapters.storage import files
from pg_backup_manager.domain.history import BACKUP_OPERATIONS, Outcome, RunRecord
from pg_backup_manager.domain.model import Layout

HISTORY_NAME = "history.jsonl"
KEEP = 1000
log = logging.getLogger(__name__)


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
        lines, _ = history_lines.parsed(_contents(self._path(identifier)))
        return [line.record for line in lines[-self.keep :]]

    def totals(self, identifier: str) -> dict[Outcome, int]:
        """Return how many backup runs of ``identifier`` ended each way, ever."""
        return history_lines.totals(_contents(self._path(identifier)))

    def unreadable_lines(self, identifier: str) -> int:
        """Return how many lines of the history of ``identifier`` could not be read."""
        _, unreadable = history_lines.parsed(_contents(self._path(identifier)))
        return unreadable

    def _path(self, identifier: str) -> Path:
        return Path(self.layout.backup_dir(identifier)) / HISTORY_NAME

    def _add(self, identifier: str, record: RunRecord) -> None:
        path = self._path(identifier)
        files.make_dir(path.parent)
        with _locked(path, self.file_mode) as descriptor:
            data = _read(descriptor)
            totals = history_lines.totals(data)
            if record.operation in BACKUP_OPERATIONS:
                totals[record.outcome] += 1
            line = history_lines.encoded(record, totals)
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
