"""A program's short answer (``<tool> --version``): bounded in time and in size.

:func:`processes.run` reads a program's output to its end, which never comes from a
program that hangs or whose child keeps the pipe open, and which can be of any size.
A question that should be answered at once is asked here instead.
"""

from __future__ import annotations

import contextlib
import math
import os
import select
import signal
import subprocess
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs

from pg_backup_manager.adapters import processes
from pg_backup_manager.adapters.waiting import wait_for
from pg_backup_manager.domain.errors import ToolError

if TYPE_CHECKING:  # plumbum is imported when a program runs: list and --help run none
    from plumbum.commands.base import BaseCommand

# How late the end of a program whose child keeps its output open is seen: the end
# of a program that closes its output is seen at once.
_TICK_S = 0.05
_EXCERPT_CHARACTERS = 60


class NoAnswer(ToolError):
    """A program did not answer within its deadline (it was killed)."""


@attrs.frozen(kw_only=True)
class Answer:
    """What a program said: ``text`` is at most the limit asked for, decoded leniently;
    ``whole`` is False when it said more (the rest was never read)."""

    text: str
    whole: bool


def short_answer(
    command: BaseCommand, args: Sequence[str], *, what: str, timeout: float, limit: int
) -> Answer:
    """Run ``command`` with ``args``; return what it says on stdout, at most ``limit`` bytes.

    Reading stops at the end of its output, after ``limit`` bytes, or once it has
    ended and says nothing more (a child of it may keep its output open). Then its
    whole process group (it leads a new session) is killed: no child of it lingers.

    Raises:
        NoAnswer: it neither ended nor said more than ``limit`` bytes within
            ``timeout`` seconds; the message names ``what`` and the deadline.
        ToolError: it is missing, or it exits non-zero (its last words end the message).
    """
    deadline = time.monotonic() + timeout
    with processes.started(
        command, args, what=what, stdout=subprocess.PIPE, new_session=True
    ) as tool:
        try:
            said = _read(tool, deadline, limit)
        except subprocess.TimeoutExpired:
            raise NoAnswer(f"{what} did not answer within {timeout:.0f} s") from None
        finally:
            kill_group(tool.process)
        whole = len(said) <= limit
        if whole and tool.process.returncode != 0:
            raise tool.failure(tool.process.returncode, or_else=said)
    return Answer(text=said[:limit].decode(errors="replace"), whole=whole)


def excerpt(said: str) -> str:
    """Return the start of ``said`` on one line, quoted, every control character escaped."""
    line = " ".join(said.split())
    cut = line[:_EXCERPT_CHARACTERS]
    return repr(cut) + ("..." if len(line) > len(cut) else "")


def _read(tool: processes.Started, deadline: float, limit: int) -> bytes:
    """Return what ``tool`` says, up to ``limit + 1`` bytes (see :func:`short_answer`).

    Raises:
        subprocess.TimeoutExpired: ``deadline`` passed first.
    """
    out = tool.stdout.fileno()
    os.set_blocking(out, False)
    ready = select.poll()
    ready.register(out, select.POLLIN)
    said = bytearray()
    ended = False
    while len(said) <= limit:
        left = deadline - time.monotonic()
        if left <= 0:
            raise subprocess.TimeoutExpired(tool.what, left)
        if not ready.poll(0 if ended else math.ceil(min(left, _TICK_S) * 1000)):
            if ended:  # it ended, and what it wrote before is read: a child holds the pipe
                break
            ended = tool.process.poll() is not None
            continue
        try:
            chunk = os.read(out, limit + 1 - len(said))
        except BlockingIOError:
            continue
        if not chunk:  # the end of its output: now its own end
            wait_for(tool.process, max(deadline - time.monotonic(), 0.0))
            break
        said += chunk
    return bytes(said)


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """Kill the process group that ``process`` leads, and reap ``process``."""
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is gone
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
