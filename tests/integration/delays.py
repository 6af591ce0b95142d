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
import shlex
import signal
import subprocess
from pathlib import Path

from .process import Controller, spawn_in_group
from .running import wait_until
from .servers import PG_BIN

_WRAPPER = """#!/bin/sh
# Runs {real}, after a pause when "$* <stdin>" matches $DELAY_PATTERN, read (as the
# others) from delay.env beside it: the controller passes none of its variables on.
settings="$(dirname "$0")/delay.env"
if [ -r "$settings" ]; then . "$settings"; fi
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


def delay_when(
    controller: Controller, bin_dir: Path, pattern: str, flag: Path, *, seconds: int = 120
) -> None:
    """Make the controller's tools wait ``seconds`` before any run that matches ``pattern``
    (until ``PG_BIN_DIR`` is taken from its environment)."""
    flag.parent.mkdir(parents=True, exist_ok=True)
    settings = {"DELAY_PATTERN": pattern, "DELAY_FLAG": str(flag), "DELAY_SECONDS": str(seconds)}
    (bin_dir / "delay.env").write_text(
        "".join(f"{name}={shlex.quote(value)}\n" for name, value in settings.items())
    )
    controller.env["PG_BIN_DIR"] = str(bin_dir)


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
    controller.env.pop("PG_BIN_DIR", None)
    return process
