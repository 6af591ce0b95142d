"""Running PostgreSQL's command-line tools: argv in, a domain error out."""

from __future__ import annotations

import os
import re
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from typing import cast

from plumbum.commands.base import BaseCommand

from pg_backup_manager.domain.errors import ToolError

_STOP_GRACE_SECONDS = 10.0
_CAUSE = re.compile(r"error:|fatal|detail:|hint:|could not|refused|denied", re.IGNORECASE)
_running: set[subprocess.Popen[bytes]] = set()
_running_lock = threading.Lock()


def track(process: subprocess.Popen[bytes]) -> subprocess.Popen[bytes]:
    """Remember ``process`` so that :func:`terminate_all` can reach it; return it."""
    with _running_lock:
        _running.difference_update({p for p in _running if p.poll() is not None})
        _running.add(process)
    return process


def terminate_all() -> None:
    """Terminate every tool running now.

    Called when a stop signal arrives, before the exception that unwinds the
    main thread: tools that worker threads wait on end at once, so their
    partial files are removed and the threads finish. Tools started after it
    run normally: the clean-up on the way out (dropping a scratch database,
    renaming a database back) needs them.
    """
    with _running_lock:
        for process in _running:
            if process.poll() is None:
                process.terminate()


def is_alive(pid: int) -> bool:
    """Return whether a process ``pid`` exists in this PID namespace."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def run_tool(
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
    """Run ``command`` with ``args``; return its standard output.

    The tool gets no terminal input unless ``stdin`` is given. Output is never
    used as data (archives are written by the tool to a file), so decoding it
    leniently is safe. If this process is interrupted (a stop signal raising
    in the handler), the tool is terminated and reaped before the exception
    goes on: no orphan keeps writing.

    Raises:
        ToolError: the tool is missing, exits non-zero, or outlives ``timeout``;
            the message names ``what`` and ends with the tool's last words,
            with every string of ``secrets`` blanked.
    """
    bound = command.with_env(**env) if env else command
    try:
        process = track(
            cast(
                "subprocess.Popen[bytes]",
                bound.popen(
                    list(args),
                    stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                    stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                ),
            )
        )
    except OSError as error:
        raise ToolError(f"{what}: cannot run {command}: {error.strerror or error}") from None
    try:
        out, err = process.communicate(
            input=stdin.encode() if stdin is not None else None, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        stop_process(process)
        raise ToolError(f"{what}: gave up after {timeout:.0f} s") from None
    except BaseException:
        stop_process(process)
        raise
    if process.returncode != 0:
        # Most tools explain a failure on stderr; some (pg_resetwal) on stdout.
        words = last_words(err if (err or b"").strip() else out, secrets)
        raise ToolError(f"{what} failed (exit {process.returncode}): {words}")
    return (out or b"").decode(errors="replace")


def wait_all(
    processes: Sequence[subprocess.Popen[bytes]], *, timeout: float, what: str
) -> list[int]:
    """Wait for ``processes`` (in that order); return their exit codes.

    If waiting outlasts ``timeout`` or is interrupted (a stop signal), every
    one of them is terminated and reaped first.

    Raises:
        ToolError: ``timeout`` passed.
    """
    deadline = time.monotonic() + timeout
    try:
        return [p.wait(max(deadline - time.monotonic(), 0.0)) for p in processes]
    except subprocess.TimeoutExpired:
        for process in processes:
            stop_process(process)
        raise ToolError(f"{what}: gave up after {timeout:.0f} s") from None
    except BaseException:
        for process in processes:
            stop_process(process)
        raise


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """Terminate ``process``, kill it if it lingers, and reap it."""
    process.terminate()
    try:
        process.wait(_STOP_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def last_words(stderr: bytes | None, secrets: Sequence[str], lines: int = 4) -> str:
    """Return what a tool said about its failure, on one line, ``secrets`` blanked.

    The lines that carry the cause (``error:``, ``FATAL``, ``detail:``, ``hint:``)
    are preferred over the tool's last lines, which are often context.
    """
    text = (stderr or b"").decode(errors="replace")
    for secret in secrets:
        # A short or common password would blank ordinary words of the message.
        if len(secret) >= 6 and secret != "postgres":
            text = text.replace(secret, "***")
    said = [line.strip() for line in text.splitlines() if line.strip()]
    causes = [line for line in said if _CAUSE.search(line)]
    picked = causes[:lines] if causes else said[-lines:]
    return " | ".join(picked) or "no message"
