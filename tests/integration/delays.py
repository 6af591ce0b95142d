"""Widening the window of a real failure: tool wrappers that wait before one statement.

``delaying_tools`` makes a ``PG_BIN_DIR`` whose ``psql`` and ``pg_restore`` are
the real ones, except that when a tool's arguments and standard input match a
shell pattern, the wrapper touches a flag file and sleeps before running the
tool. A test waits for the flag and SIGKILLs the controller's process group:
the wrapper dies with it, so the statement never runs, and the state left is
exactly what a kill in that window leaves.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from .process import Controller, spawn_in_group
from .running import wait_until
from .servers import PG_BIN

_WRAPPER = """#!/bin/sh
# Runs {real}, after a pause when "$* <stdin>" matches $DELAY_PATTERN.
if [ "{reads_stdin}" = yes ]; then input=$(cat); else input=; fi
case "$* $input" in
  $DELAY_PATTERN) touch "$DELAY_FLAG"; sleep "${{DELAY_SECONDS:-120}}" ;;
esac
if [ "{reads_stdin}" = yes ]; then
  printf '%s\\n' "$input" | {real} "$@"
  exit $?
fi
exec {real} "$@"
"""


def delaying_tools(directory: Path) -> Path:
    """Return a bin directory of wrappers of the host's PostgreSQL tools (see module)."""
    directory.mkdir(parents=True, exist_ok=True)
    for tool, reads_stdin in (
        ("psql", "yes"),
        ("pg_restore", "no"),
        ("pg_dump", "no"),
        ("pg_dumpall", "no"),
    ):
        wrapper = directory / tool
        wrapper.write_text(_WRAPPER.format(real=PG_BIN / tool, reads_stdin=reads_stdin))
        wrapper.chmod(0o755)
    return directory


def delay_when(controller: Controller, bin_dir: Path, pattern: str, flag: Path) -> None:
    """Make the controller's tools wait before any run that matches ``pattern``."""
    flag.parent.mkdir(parents=True, exist_ok=True)
    controller.env.update(
        PG_BIN_DIR=str(bin_dir), DELAY_PATTERN=pattern, DELAY_FLAG=str(flag), DELAY_SECONDS="120"
    )


def kill_when_delayed(controller: Controller, flag: Path, *args: str) -> subprocess.Popen[str]:
    """Run ``controller *args`` in its own process group; SIGKILL the group once ``flag``
    appears (a wrapper is waiting); return the dead process."""
    process = spawn_in_group(controller, *args)
    try:
        wait_until(
            lambda: flag.exists() or process.poll() is not None, 120, f"the pause before {args}"
        )
        assert flag.exists(), process.communicate(timeout=30)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate(timeout=30)
    for variable in ("PG_BIN_DIR", "DELAY_PATTERN", "DELAY_FLAG", "DELAY_SECONDS"):
        controller.env.pop(variable, None)
    return process
