"""The one way the controller runs a program: started with an environment of its own,
tracked for stop signals, timed out, stopped, and its failure cast to a domain error.

Every tool adapter goes through :func:`started` (a program whose pipes the
adapter handles itself) or :func:`run` (a program whose output is a string).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import IO, TYPE_CHECKING, cast

import attrs

if TYPE_CHECKING:  # plumbum is imported when a program runs: list and --help run none
    from plumbum.commands.base import BaseCommand

from pg_backup_manager.adapters.child_environment import child_environment
from pg_backup_manager.adapters.tool_output import last_words, temporary_file
from pg_backup_manager.adapters.waiting import wait_for
from pg_backup_manager.domain.errors import ToolError

_STOP_GRACE_SECONDS = 10.0
_running: set[subprocess.Popen[bytes]] = set()
# Re-entrant: the stop handler takes it, and may interrupt a thread that holds it.
_running_lock = threading.RLock()
# The stop signal that ended the run, once one came (:func:`terminate_all`).
_stopped_by: list[str] = []
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
    pass_fds: Sequence[int] = (),
) -> Iterator[Started]:
    """Start ``command`` with ``args`` for the block; stop and reap it if the block raises.

    Its environment is :func:`child_environment`'s, then ``env``: never the
    controller's own variables, which hold passwords and tokens (plumbum's own
    ``popen`` would add them all). Of the controller's descriptors it gets only
    ``pass_fds``. Its stderr goes to a temporary file (:meth:`Started.said`).
    While it runs, :func:`terminate_all` can reach it, so a stop signal ends it.
    With ``new_session`` it leads its own process group, which the block can kill whole.

    Raises:
        ToolError: it cannot be started (missing, not executable).
    """
    argv = [str(arg) for arg in command.formulate(0, list(args))]
    with temporary_file(what) as errors:
        try:
            process = subprocess.Popen(
                argv,
                stdin=stdin,
                stdout=stdout,
                stderr=errors,
                env={**child_environment(os.environ), **(env or {})},
                start_new_session=new_session,
                pass_fds=tuple(pass_fds),
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
    pass_fds: Sequence[int] = (),
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
        pass_fds=pass_fds,
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


def terminate_all(stopped_by: str | None = None) -> None:
    """Terminate every program running now; with ``stopped_by``, remember that stop
    signal (:func:`stopped`).

    Called when a stop signal arrives, before the exception that unwinds the
    main thread: programs that worker threads wait on end at once, so their
    partial files are removed and the threads finish. Programs started after it
    run normally: the clean-up on the way out (dropping a scratch database,
    renaming a database back) needs them.
    """
    if stopped_by is not None and not _stopped_by:
        _stopped_by.append(stopped_by)
    with _running_lock:
        for process in _running:
            if process.poll() is None:
                process.terminate()


def stopped() -> str | None:
    """Return the name of the stop signal that ended this run (``SIGTERM``), None before one."""
    return _stopped_by[0] if _stopped_by else None


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
