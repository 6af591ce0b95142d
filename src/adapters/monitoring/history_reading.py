"""Reading ``history.jsonl``: the file's bytes, never waiting on anything but a regular
file, and :class:`HistoryOnce`, the histories of one question (a ``status``, a page, a
scrape) read once each, however many of their answers it asks."""

from __future__ import annotations

import errno
import logging
import os
import stat
import threading
import time
from collections.abc import Callable
from pathlib import Path

import attrs

from pg_backup_manager.adapters.monitoring import history_lines
from pg_backup_manager.domain.history import Outcome, RunRecord

_NOT_REGULAR = "not a regular file"
log = logging.getLogger(__name__)
WARN_EVERY = 3600.0  # seconds between two warnings of the same unreadable history
_warned: dict[tuple[str, str], float] = {}
_warned_lock = threading.Lock()


def _first_in_a_while(what: tuple[str, str]) -> bool:
    """Return whether ``what`` was not warned of in the last ``WARN_EVERY`` seconds (and
    note that it is now)."""
    now = time.monotonic()
    with _warned_lock:
        if now - _warned.get(what, -WARN_EVERY) < WARN_EVERY:
            return False
        _warned[what] = now
        return True


@attrs.frozen(kw_only=True)
class _Read:
    """One history as read: its bytes, why it could not be read, its lines, and how many
    of them are unreadable."""

    data: bytes
    problem: str | None
    lines: list[history_lines.Line]
    unreadable: int


@attrs.define(kw_only=True)
class HistoryOnce:
    """The run histories as they are at their first question: each file read and parsed
    when one of its answers is first asked, and every later answer from that one reading
    (the RunHistory port). One per question: it never sees what is written after."""

    path: Callable[[str], Path]  # where the history of an identifier is
    keep: int
    _read: dict[str, _Read] = attrs.field(factory=dict, init=False)

    def records(self, identifier: str) -> list[RunRecord]:
        """Return the newest records of ``identifier`` (``keep`` at most), oldest first;
        unreadable lines are skipped."""
        return [line.record for line in self._of(identifier).lines[-self.keep :]]

    def totals(self, identifier: str) -> dict[Outcome, int]:
        """Return how many backup runs of ``identifier`` ended each way, ever."""
        return history_lines.totals(self._of(identifier).data)

    def unreadable_lines(self, identifier: str) -> int:
        """Return how many lines of the history of ``identifier`` could not be read; a
        history that cannot be read at all (not a regular file) is logged as a warning,
        once per ``WARN_EVERY`` seconds at most in a process (a page or a scrape asks
        each time: any client could flood the log)."""
        read = self._of(identifier)
        if read.problem is not None and _first_in_a_while((identifier, read.problem)):
            log.warning("%s: the run history could not be read (%s)", identifier, read.problem)
        return read.unreadable

    def problem(self, identifier: str) -> str | None:
        """Return why the history of ``identifier`` could not be read at all, if so."""
        return self._of(identifier).problem

    def _of(self, identifier: str) -> _Read:
        if identifier not in self._read:
            data, problem = contents(self.path(identifier))
            lines, unreadable = history_lines.parsed(data)
            self._read[identifier] = _Read(
                data=data, problem=problem, lines=lines, unreadable=unreadable
            )
        return self._read[identifier]


def contents(path: Path) -> tuple[bytes, str | None]:
    """Return the bytes of the history at ``path`` (none without one) and, when it could not
    be read, why. It is opened without blocking or following a symbolic link and read only
    if it is a regular file: reading a FIFO would wait for a writer forever."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
    except FileNotFoundError:
        return b"", None
    except OSError as error:
        return b"", _NOT_REGULAR if error.errno == errno.ELOOP else (error.strerror or str(error))
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            return b"", _NOT_REGULAR
        return read_all(descriptor), None
    except OSError as error:
        return b"", error.strerror or str(error)
    finally:
        os.close(descriptor)


def read_all(descriptor: int) -> bytes:
    """Return the bytes of the file open as ``descriptor``, from its start."""
    size = os.fstat(descriptor).st_size
    chunks: list[bytes] = []
    while size > 0:
        chunk = os.pread(descriptor, size, sum(map(len, chunks)))
        if not chunk:
            break
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)
