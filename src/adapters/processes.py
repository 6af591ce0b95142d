"""The one way the controller runs a program: started, tracked for stop signals,
timed out, stopped, and its failure cast to a domain error.

Every tool adapter goes through :func:`started` (a program whose pipes the
adapter handles itself) or :func:`run` (a program whose output is a string).
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import IO, TYPE_CHECKING, cast

import attrs

if TYPE_CHECKING:  # plumbum is imported when a program runs: list and --help run none
    from plumbum.commands.base import BaseCommand

from pg_backup_manager.adapters.waiting import wait_for
from pg_backup_manager.domain.errors import ToolError

_STOP_GRACE_SECONDS = 10.0
_CAUSE = re.compile(r"error:|fatal|detail:|hint:|could not|refused|denied", re.IGNORECASE)
_HINT = re.compile(r"hint:", re.IGNORECASE)
_running: set[subprocess.Popen[bytes]] = set()
# Re-entrant: the stop handler takes it, and may interrupt a thread that holds it.
_running_lock = threading.RLock()
Stream = int | IO[bytes] | None


@attrs.frozen(kw_only=True)
class Started:
    """A program started by :func:`started`: its process, and what it said on stderr."""

    process: subprocess.Popen[bytes]
    what: str
    errors: IO[bytes]

    @property
    def stdout(self) -> IO[bytes]:
        """Return the pipe of its standard output (started with ``stdout=PIPE``)."""
        return cast(IO[bytes], self.process.stdout)

    @property
    def stdin(self) -> IO[bytes]:
        """Return the pipe of its standard input (started with ``stdin=PIPE``)."""
        return cast(IO[bytes], self.process.stdin)

    def said(self, secrets: Sequence[str] = (), *, or_else: bytes | None = None) -> str:
        """Return the cause of its failure from its stderr (else ``or_else``), on one line."""
        self.errors.seek(0)
        text = self.errors.read()
        return last_words(text if text.strip() else or_else, secrets)

    def failure(self, code: int, secrets: Sequence[str] = (), **said: bytes | None) -> ToolError:
        """Return the error of its exit with ``code``, ending with its last words."""
        return ToolError(f"{self.what} failed (exit {code}): {self.said(secrets, **said)}")


@contextlib.contextmanager
def started(
    command: BaseCommand,
    args: Sequence[str],
    *,
    what: str,
    env: Mapping[str, str] | None = None,
    stdin: Stream = subprocess.DEVNULL,
    stdout: Stream = subprocess.DEVNULL,
    new_session: bool = False,
) -> Iterator[Started]:
    """Start ``command`` with ``args`` for the block; stop and reap it if the block raises.

    Its stderr goes to a temporary file (:meth:`Started.said`). While it runs,
    :func:`terminate_all` can reach it, so a stop signal ends it. With
    ``new_session`` it leads its own process group, which the block can kill whole.

    Raises:
        ToolError: it cannot be started (missing, not executable).
    """
    bound = command.with_env(**env) if env else command
    with _errors_file(what) as errors:
        try:
            process = cast(
                "subprocess.Popen[bytes]",
                bound.popen(
                    list(args), stdin=stdin, stdout=stdout, stderr=errors, new_session=new_session
                ),
            )
        except OSError as error:
            raise ToolError(f"{what}: cannot run {command}: {error.strerror or error}") from None
        try:
            track(process)
            yield Started(process=process, what=what, errors=errors)
        except BaseException:
            stop(process)
            raise
        finally:
            for stream in (process.stdin, process.stdout):
                if stream is not None:
                    stream.close()


@contextlib.contextmanager
def _errors_file(what: str) -> Iterator[IO[bytes]]:
    """Yield a temporary file for a program's stderr; a full or missing TMPDIR is a ToolError."""
    try:
        errors = tempfile.TemporaryFile()  # noqa: SIM115 (closed by the with below)
    except OSError as error:
        raise ToolError(
            f"{what}: cannot make a temporary file ({error.strerror or error}): "
            f"check TMPDIR ({tempfile.gettempdir()})"
        ) from None
    with errors:
        yield errors


def run(
    command: BaseCommand,
    args: Sequence[str],
    *,
    what: str,
    timeout: float,
    env: Mapping[str, str] | None = None,
    stdin: str | None = None,
    capture: bool = True,
    secrets: Sequence[str] = (),
) -> str:
    """Run ``command`` with ``args`` to its end; return its standard output.

    The program gets no terminal input unless ``stdin`` is given. Output is
    never data (archives are written by the tools to files), so decoding it
    leniently is safe.

    Raises:
        ToolError: it is missing, exits non-zero, or outlives ``timeout``; the
            message names ``what`` and ends with its last words (stderr, or
            stdout when stderr is empty), every string of ``secrets`` blanked.
    """
    with started(
        command,
        args,
        what=what,
        env=env,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
    ) as tool:
        try:
            out: bytes | None = None
            if stdin is None and not capture:  # no pipe to tend: wait for its end alone
                wait_for(tool.process, timeout)
            else:
                out, _ = tool.process.communicate(
                    input=stdin.encode() if stdin is not None else None, timeout=timeout
                )
        except subprocess.TimeoutExpired:
            stop(tool.process)
            raise ToolError(f"{what}: gave up after {timeout:.0f} s") from None
        if tool.process.returncode != 0:
            raise tool.failure(tool.process.returncode, secrets, or_else=out)
    return (out or b"").decode(errors="replace")


def wait_all(tools: Sequence[Started], *, timeout: float) -> list[int]:
    """Wait for ``tools`` (in that order); return their exit codes.

    If waiting outlasts ``timeout`` or is interrupted (a stop signal), every
    one of them is stopped first.

    Raises:
        ToolError: ``timeout`` passed.
    """
    deadline = time.monotonic() + timeout
    try:
        return [wait_for(t.process, max(deadline - time.monotonic(), 0.0)) for t in tools]
    except subprocess.TimeoutExpired:
        for tool in tools:
            stop(tool.process)
        raise ToolError(f"{tools[0].what}: gave up after {timeout:.0f} s") from None
    except BaseException:
        for tool in tools:
            stop(tool.process)
        raise


def track(process: subprocess.Popen[bytes]) -> None:
    """Let :func:`terminate_all` reach ``process`` (one not started by :func:`started`)."""
    with _running_lock:
        _running.difference_update({p for p in _running if p.poll() is not None})
        _running.add(process)


def terminate_all() -> None:
    """Terminate every program running now.

    Called when a stop signal arrives, before the exception that unwinds the
    main thread: programs that worker threads wait on end at once, so their
    partial files are removed and the threads finish. Programs started after it
    run normally: the clean-up on the way out (dropping a scratch database,
    renaming a database back) needs them.
    """
    with _running_lock:
        for process in _running:
            if process.poll() is None:
                process.terminate()


def stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate ``process``, kill it if it lingers, and reap it."""
    process.terminate()
    try:
        process.wait(_STOP_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def is_alive(pid: int) -> bool:
    """Return whether a process ``pid`` exists in this PID namespace."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def last_words(said: bytes | None, secrets: Sequence[str], lines: int = 4) -> str:
    """Return what a program said about its failure, on one line, ``secrets`` blanked.

    The lines that carry the cause (``error:``, ``FATAL``, ``detail:``, ``hint:``)
    are preferred over the last lines, which are often context.
    """
    text = (said or b"").decode(errors="replace")
    for secret in secrets:
        # A short or common password would blank ordinary words of the message.
        if len(secret) >= 6 and secret != "postgres":
            text = text.replace(secret, "***")
    lines_said = [line.strip() for line in text.splitlines() if line.strip()]
    causes = [line for line in lines_said if _CAUSE.search(line)]
    if all(_HINT.search(line) for line in causes):  # a hint alone is not the cause
        causes = []
    picked = causes[:lines] if causes else lines_said[-lines:]
    return " | ".join(picked) or "no message"
