"""Asking a tool its version is bounded: a tool that never answers, one whose child keeps
its output open, and one that says far too much cannot hang ``--version``, ``config`` or
``dump``, nor fill the controller's memory or the terminal."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

from .process import Controller, Run, spawn_in_group
from .servers import PG_A, PG_BIN, PgServers

# The controller gives a tool 10 s to answer: 40 s leaves room for a slow machine.
WITHIN_S = 40.0
TOOLS = ("pg_dump", "pg_dumpall", "pg_restore", "psql")
NEVER_ANSWERS = "#!/bin/sh\n/bin/sleep 1000\n"


def stub_tools(controller: Controller, **stubs: str) -> Path:
    """Point PG_BIN_DIR at the host's tools, but for the shell scripts of ``stubs``."""
    bin_dir = controller.workdir / "bin"
    bin_dir.mkdir()
    for tool in TOOLS:
        if tool in stubs:
            (bin_dir / tool).write_text(stubs[tool])
            (bin_dir / tool).chmod(0o755)
        else:
            (bin_dir / tool).symlink_to(PG_BIN / tool)
    controller.env["PG_BIN_DIR"] = str(bin_dir)
    return bin_dir


def run_within(controller: Controller, *args: str) -> Run:
    """Run ``controller *args``; fail the test if it still runs after WITHIN_S (its process
    group, stubs included, is killed then)."""
    process = spawn_in_group(controller, *args)
    try:
        stdout, stderr = process.communicate(timeout=WITHIN_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail(f"controller {' '.join(args)} still ran after {WITHIN_S:.0f} s")
    run = Run(args, process.returncode, stdout, stderr)
    print(run)  # pytest shows it with the report of a failing test
    assert "Traceback" not in run.output, run
    return run


def test_version_with_a_tool_that_never_answers_says_so_and_exits_0(
    controller: Controller,
) -> None:
    bin_dir = stub_tools(controller, pg_dump=NEVER_ANSWERS)

    run = run_within(controller, "--version")

    assert run.returncode == 0, run
    assert (
        f"pg_dump at {bin_dir / 'pg_dump'} (PG_BIN_DIR): {bin_dir / 'pg_dump'} --version "
        "did not answer within 10 s"
    ) in run.stdout.splitlines(), run
    assert run.stdout.splitlines()[2].startswith("pg_dumpall "), run


def test_version_reads_a_tool_whose_child_keeps_its_output_open_and_stops_that_child(
    controller: Controller,
) -> None:
    child = controller.workdir / "child.pid"
    stub_tools(
        controller,
        pg_dumpall=(
            f"#!/bin/sh\n/bin/sleep 1000 &\necho $! > {child}\n"
            'echo "pg_dumpall (PostgreSQL) 15.2"\n'
        ),
    )

    run = run_within(controller, "--version")

    assert run.returncode == 0, run
    assert run.stdout.splitlines()[2].startswith("pg_dumpall 15.2 at "), run
    pid = int(child.read_text())
    assert not Path(f"/proc/{pid}").exists() or "Z" in _state(pid), "the child still runs"


def test_version_reads_a_few_kib_of_a_tool_that_says_too_much_and_shows_an_escaped_excerpt(
    controller: Controller,
) -> None:
    stub_tools(
        controller,
        psql=(
            "#!/bin/sh\nprintf '\\033[31m'\n"
            "/usr/bin/yes 'psql (PostgreSQL) 15.2' | head -c 20000000\n"
        ),
    )

    run = run_within(controller, "--version")

    psql_line = run.stdout.splitlines()[4]
    assert run.returncode == 0, run
    assert len(run.stdout) < 2000, f"--version printed {len(run.stdout)} characters"
    assert psql_line.startswith("psql at "), psql_line
    assert "said more than 4096 bytes" in psql_line, psql_line
    assert "not a PostgreSQL version" in psql_line, psql_line
    assert "\x1b" not in run.stdout and "\\x1b[31m" in psql_line, psql_line


def test_config_with_a_pg_dump_that_never_answers_fails_naming_it(
    controller: Controller,
) -> None:
    controller.add_database("users", PG_A)
    bin_dir = stub_tools(controller, pg_dump=NEVER_ANSWERS)

    run = run_within(controller, "config")

    assert run.returncode == 1, run
    assert run.stderr.strip() == (
        f"error: {bin_dir / 'pg_dump'} --version did not answer within 10 s"
    ), run


def test_dump_with_a_pg_dump_that_never_answers_fails_naming_it_within_the_deadline(
    controller: Controller, pg: PgServers
) -> None:
    controller.add_database("users", pg.a)
    controller.env["BACKUP_TIMEOUT"] = "5"
    bin_dir = stub_tools(controller, pg_dump=NEVER_ANSWERS)

    run = run_within(controller, "dump", "users")

    assert run.returncode == 1, run
    assert f"{bin_dir / 'pg_dump'} --version did not answer within 10 s" in run.output, run
    assert controller.backups("users") == [], run


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return "gone"
