"""An operator's program run to its end in a process group of its own, with exactly the
environment it is given, its output kept in bounded memory.

Not through :func:`processes.started`, as the tools are: a command gets exactly the
environment it is given (not even the tools' share of the controller's), and its output
is read as it comes, bounded, instead of kept in a file.
"""

from __future__ import annotations

import math
import os
import select
import subprocess
import time
from collections.abc import Mapping, Sequence
from typing import IO, cast

import attrs

from pg_backup_manager.adapters import processes
from pg_backup_manager.adapters.answers import kill_group

_CHUNK = 1 << 16
# Without a pidfd, how often the end of a program whose child holds its output is looked for.
_TICK_S = 0.05
# Once the program has ended, at most this much more is read of what a child of it writes.
_AFTER_END = 1 << 20


@attrs.frozen(kw_only=True)
class Ran:
    """How a program ended: its exit code (negative: the signal that killed it; None: it
    outlived its timeout and was killed), the last bytes of its output (``tail``), and
    how many bytes before them were not kept (``dropped``)."""

    code: int | None
    tail: bytes
    dropped: int


@attrs.define
class _Tail:
    """The last ``keep`` bytes of what a program says, and how many came before them."""

    keep: int
    kept: bytearray = attrs.field(factory=bytearray)
    dropped: int = 0

    def add(self, chunk: bytes) -> None:
        self.kept += chunk
        over = len(self.kept) - self.keep
        if over > 0:
            del self.kept[:over]
            self.dropped += over


def run_bounded(argv: Sequence[str], *, env: Mapping[str, str], timeout: float, keep: int) -> Ran:
    """Run ``argv`` with exactly ``env``, no input, its stdout and stderr in one pipe, in a
    new session; return how it ended and the last ``keep`` bytes it said.

    It has ``timeout`` seconds to end. When it has ended (or the time is up, or a stop
    signal comes) its whole process group is killed: nothing it started outlives it,
    and a child that keeps its output open holds up nothing. A stop signal reaches it
    as it reaches the tools (:func:`processes.terminate_all`).

    Raises:
        OSError: it cannot be started (missing, not executable).
    """
    deadline = time.monotonic() + timeout
    process = subprocess.Popen(
        list(argv),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=dict(env),
        start_new_session=True,
    )
    processes.track(process)
    tail = _Tail(keep=keep)
    try:
        ended = _read(process, tail, deadline)
    finally:
        kill_group(process)
        cast(IO[bytes], process.stdout).close()
    return Ran(
        code=process.returncode if ended else None, tail=bytes(tail.kept), dropped=tail.dropped
    )


def _read(process: subprocess.Popen[bytes], tail: _Tail, deadline: float) -> bool:
    """Read what ``process`` says into ``tail`` until it has ended (True) or ``deadline``
    passed (False); once it ended, only what is left in the pipe is read."""
    out = cast(IO[bytes], process.stdout).fileno()
    os.set_blocking(out, False)
    watch = select.poll()
    watch.register(out, select.POLLIN)
    pidfd = _pidfd(process)
    if pidfd is not None:
        watch.register(pidfd, select.POLLIN)
    try:
        while (left := deadline - time.monotonic()) > 0:
            wait = left if pidfd is not None else min(left, _TICK_S)
            ready = {fd for fd, _ in watch.poll(math.ceil(wait * 1000))}
            if out in ready and not _more(out, tail):
                watch.unregister(out)  # its output is closed: now its end
            ended = pidfd in ready if pidfd is not None else process.poll() is not None
            if ended:
                _drain(out, tail)
                return True
        return False
    finally:
        if pidfd is not None:
            os.close(pidfd)


def _more(out: int, tail: _Tail) -> bool:
    """Read one chunk of ``out`` into ``tail``; return False at the end of the output."""
    try:
        chunk = os.read(out, _CHUNK)
    except BlockingIOError:
        return True
    tail.add(chunk)
    return bool(chunk)


def _drain(out: int, tail: _Tail) -> None:
    """Read what is left in the pipe now, at most ``_AFTER_END`` bytes (a child may write on)."""
    read = 0
    while read < _AFTER_END:
        try:
            chunk = os.read(out, _CHUNK)
        except OSError:  # nothing more now (BlockingIOError), or nothing to read
            return
        if not chunk:
            return
        tail.add(chunk)
        read += len(chunk)


def _pidfd(process: subprocess.Popen[bytes]) -> int | None:
    """Return a descriptor readable once ``process`` ends, or None where there is none."""
    try:
        return os.pidfd_open(process.pid)
    except (AttributeError, OSError):
        return None
