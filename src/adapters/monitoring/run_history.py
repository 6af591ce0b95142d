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
appends). A record is appended before the trim, which is best effort: a trim that
fails (a second copy may not fit on a full disk) is logged and loses nothing, the file
staying over the cap until a later trim succeeds. Anything but a regular file at the
path (a FIFO, a device, a symbolic link) is never read, never written and never waited
on.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import attrs

from pg_backup_manager.adapters.monitoring import history_lines
from pg_backup_manager.adapters.monitoring.history_reading import HistoryOnce, read_all
from pg_backup_manager.adapters.storage import files
from pg_backup_manager.domain import database_names
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
        return self.read_once().records(identifier)

    def totals(self, identifier: str) -> dict[Outcome, int]:
        """Return how many backup runs of ``identifier`` ended each way, ever."""
        return self.read_once().totals(identifier)

    def unreadable_lines(self, identifier: str) -> int:
        """Return how many lines of the history of ``identifier`` could not be read; a
        history that cannot be read at all (not a regular file) is logged as a warning."""
        return self.read_once().unreadable_lines(identifier)

    def problem(self, identifier: str) -> str | None:
        """Return why the history of ``identifier`` could not be read at all, if so."""
        return self.read_once().problem(identifier)

    def read_once(self) -> HistoryOnce:
        """Return the histories as they are now, each file read once, at its first
        question, however many answers are asked of it (one ``status``, page or scrape)."""
        return HistoryOnce(path=self._path, keep=self.keep)

    def _path(self, identifier: str) -> Path:
        return Path(self.layout.backup_dir(identifier)) / HISTORY_NAME

    def _add(self, identifier: str, record: RunRecord) -> None:
        path = self._path(identifier)
        if database_names.split(identifier)[1] is None:
            files.make_dir(path.parent)
        elif not os.path.lexists(path.parent):
            # Only what writes a backup makes a database's directory: the record of an
            # off-site command for a database with nothing here is only logged.
            log.info(
                "%s: no backup directory here: its %s (%s) is not recorded",
                identifier,
                record.operation.value,
                record.outcome.value,
            )
            return
        # Never through a symbolic link out of the data root (a refused directory).
        files.inside(Path(self.layout.data_root), path.parent)
        with _locked(path, self.file_mode) as descriptor:
            data = read_all(descriptor)
            totals = history_lines.totals(data)
            if record.operation in BACKUP_OPERATIONS:
                totals[record.outcome] += 1
            line = history_lines.encoded(record, totals)
            cut = data and not data.endswith(b"\n")  # a cut line stays one bad line
            added = b"\n" + line if cut else line
            _append(descriptor, added, size=len(data))
            present = [raw for raw in (data + added).splitlines() if raw.strip()]
            if len(present) <= self.keep + max(1, self.keep // 10):
                return
            try:
                _trim(path, present[-self.keep :], self.file_mode)
            except OSError as error:  # the record is in; the file stays over the cap
                log.warning(
                    "%s: the run history could not be trimmed (%s); it keeps every record "
                    "until a later trim succeeds",
                    identifier,
                    error.strerror or error,
                )


def _trim(path: Path, kept: list[bytes], mode: int) -> None:
    """Replace the history at ``path`` with the lines ``kept``; raise OSError, leaving it
    as it was, when that cannot be done (a second copy may not fit on the disk)."""
    temporary = path.with_name(f".{HISTORY_NAME}.{os.getpid()}.new")
    try:
        files.create_empty(temporary, mode)
        temporary.write_bytes(b"".join(raw + b"\n" for raw in kept))
        files.fsync(temporary)
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)


@contextlib.contextmanager
def _locked(path: Path, mode: int) -> Iterator[int]:
    """Yield a descriptor (read, append) of the file at ``path``, created if absent, locked
    while it is still the file at ``path``: a writer that trimmed it replaced it while
    others waited for the lock of the old one, which they must then leave.

    Raises OSError when the file at ``path`` is not a regular file (a FIFO, a device, a
    symbolic link): opened without blocking, never written.
    """
    flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK
    while True:  # each turn means another writer replaced the file: it made progress
        descriptor = os.open(path, flags, mode)
        try:
            if not stat.S_ISREG(os.fstat(descriptor).st_mode):
                raise OSError(errno.EINVAL, f"{path.name} is not a regular file")
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
