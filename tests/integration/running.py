"""Controller processes that run while a test acts on them, and locks that hold them up."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from .support import APP_DB, CONTROLLER, PG_BIN, Controller, PgServer, hand_to_postgres, psql

STOP_TIMEOUT_S = 15.0


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}", pytrace=False)
        time.sleep(0.2)


@contextmanager
def table_locked(server: PgServer, table: str) -> Iterator[None]:
    """Holds an exclusive lock on ``table``: a pg_dump of the database waits for it."""
    holder = subprocess.Popen(
        [
            str(PG_BIN / "psql"),
            "-X",
            "-q",
            "-h",
            server.host,
            "-p",
            str(server.port),
            "-U",
            server.user,
            "-d",
            APP_DB,
            "-c",
            f"BEGIN; LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(120);",
        ],
        env={"PATH": "/usr/bin:/bin", "PGPASSWORD": server.password, "PGAPPNAME": "lock-holder"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(1.0)
        yield
    finally:
        # The server would keep the lock until pg_sleep ends: end the session there.
        sessions(
            server,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'lock-holder'",
        )
        holder.wait(30)


def sessions(server: PgServer, query: str) -> str:
    return psql(server, query, db="postgres").strip()


def dumps_connected(server: PgServer) -> int:
    return int(
        sessions(
            server,
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pg-backup-manager'",
        )
    )


def spawn(
    controller: Controller, *args: str, namespace_root: Path | None = None
) -> subprocess.Popen[str]:
    argv = [str(CONTROLLER), *args]
    hand_to_postgres(controller.workdir)
    if namespace_root is not None:
        argv = [
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "--",
            "sh",
            "-c",
            'mount --bind "$0" /var/lib/postgresql && exec "$@"',
            str(namespace_root),
            *argv,
        ]
    return subprocess.Popen(
        argv,
        cwd=controller.workdir,
        env=controller.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def stop(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=STOP_TIMEOUT_S)
    print(
        f"stopped in {time.monotonic() - started:.1f} s\n--- stdout ---\n{out}--- stderr ---\n{err}"
    )
    assert "Traceback" not in out + err
    return process.returncode, out, err
