"""Exchanges with outside endpoints (notifications, pings) that nothing waits on for long.

Each exchange runs in a child process (this module, run with ``python -m``), which
reads its request on stdin (URLs carry secrets: never on a command line). A daemon
thread waits for the child and logs what it said, so the caller goes on at once
(the backup, its upload, the next run). The child is killed at the exchange's
deadline, and at exit pending exchanges get a short grace, then are killed too (one
that waits for another to end is dropped).

Why a process and not a thread: a thread cannot be stopped, and an HTTP library's
timeout bounds each read, not the exchange: an endpoint that sends a byte every few
seconds never times out. Apprise also sends from its own thread pools, which the
interpreter joins at exit: such an endpoint would keep a command from ever exiting.
Killing the process ends the exchange, its sockets and its threads. A child whose
parent was killed ends itself at its deadline (an alarm).
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

import attrs

from pg_backup_manager.adapters import processes
from pg_backup_manager.adapters.child_environment import web_environment
from pg_backup_manager.domain.errors import ToolError

if TYPE_CHECKING:  # plumbum is imported by the first send: most commands send nothing
    from plumbum.commands.base import BaseCommand

log = logging.getLogger(__name__)

DEADLINE_SECONDS = 25.0  # two tries of 10 s each, and the child's start
EXIT_GRACE_SECONDS = 10.0  # what a command waits at exit for its pending exchanges


@attrs.define
class Pending:
    """An exchange under way in the background."""

    what: str
    thread: threading.Thread | None = None
    process: subprocess.Popen[bytes] | None = None

    @property
    def done(self) -> bool:
        """Return whether the exchange ended (sent, failed or killed)."""
        return self.thread is not None and not self.thread.is_alive()

    def wait(self, seconds: float) -> None:
        """Return when the exchange ended, or after ``seconds``."""
        if self.thread is not None:
            self.thread.join(max(seconds, 0.0))

    def kill(self) -> None:
        """End the exchange now (its child process is killed)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()


_pending: list[Pending] = []
_pending_lock = threading.Lock()
_exiting = threading.Event()  # set by finish(): an exchange still waiting for another is dropped


def send(
    request: Mapping[str, object],
    *,
    what: str,
    gave_up: str,
    after: Pending | None = None,
    deadline: float = DEADLINE_SECONDS,
) -> Pending:
    """Start the exchange ``request`` in the background (once ``after`` ended); return at once.

    The child hands ``request`` to
    :func:`pg_backup_manager.adapters.monitoring.notifications.deliver`
    and its warnings are logged here. If it has not ended ``deadline`` seconds
    after it started (or at exit, see :func:`finish`), it is killed and ``gave_up``
    is logged as a warning.
    ``what`` and ``gave_up`` are printed: they must hold no secret. Never raises.
    """
    # Imported here, in the caller's thread: plumbum's modules import each other, and two
    # threads importing it at once (this one's and a dump's) fail half-way.
    from plumbum import local

    python = local[sys.executable]
    pending = Pending(what=what)

    def exchange() -> None:
        if after is not None:
            after.wait(deadline + 1.0)
            if _exiting.is_set():
                log.warning("%s: not sent, the controller is exiting", gave_up)
                return
        try:
            _exchange(pending, python, request, gave_up=gave_up, deadline=deadline)
        except Exception as error:  # a thread's traceback would land among the logs
            log.warning("%s: unexpected %s", gave_up, type(error).__name__)

    pending.thread = threading.Thread(target=exchange, name=what, daemon=True)
    with _pending_lock:
        _pending[:] = [p for p in _pending if not p.done]
        _pending.append(pending)
    pending.thread.start()
    return pending


def _exchange(
    pending: Pending,
    python: BaseCommand,
    request: Mapping[str, object],
    *,
    gave_up: str,
    deadline: float,
) -> None:
    payload = json.dumps({**request, "deadline": deadline}).encode()
    started = time.monotonic()
    try:
        with processes.started(
            python,
            # -I: isolated, so nothing in the working directory or PYTHON* variables is run.
            ["-I", "-m", __name__],
            what=pending.what,
            stdin=subprocess.PIPE,
            env=web_environment(os.environ),
        ) as child:
            pending.process = child.process
            try:
                child.stdin.write(payload)
                child.stdin.close()
            except OSError:
                pass  # it died at once: what it said tells why
            try:
                code = child.process.wait(deadline)
            except subprocess.TimeoutExpired:
                child.process.kill()
                code = child.process.wait()
            child.errors.seek(0)
            said = child.errors.read().decode(errors="replace")
    except ToolError as error:
        log.warning("%s: %s", pending.what, error)
        return
    for line in said.splitlines():
        if line.strip():
            log.warning("%s", line.strip())
    if code < 0:  # killed: at its deadline, at exit or by a stop signal
        log.warning("%s: cut off after %.0f s", gave_up, time.monotonic() - started)


def finish(grace: float = EXIT_GRACE_SECONDS) -> None:
    """Give the pending exchanges ``grace`` seconds in all to end, then kill the others;
    one still waiting for another to end (``after``) is not started at all."""
    _exiting.set()
    with _pending_lock:
        pending = [p for p in _pending if not p.done]
    end = time.monotonic() + grace
    for exchange in pending:
        exchange.wait(end - time.monotonic())
    for exchange in pending:
        exchange.kill()
    for exchange in pending:
        exchange.wait(1.0)  # for its thread to log that it gave up


atexit.register(finish)


def _child() -> None:
    """Deliver the request on stdin (see :func:`send`); warnings go to stderr."""
    # Ctrl-C reaches the whole process group: the parent decides, the child ends quietly.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    request = json.load(sys.stdin)
    signal.alarm(int(request["deadline"]) + 1)
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)
    from pg_backup_manager.adapters.monitoring.notifications import deliver

    try:
        deliver(request)
    except Exception as error:  # a bug here must not print a traceback among the logs
        log.warning("could not send: unexpected %s", type(error).__name__)
        sys.exit(1)


if __name__ == "__main__":
    _child()
