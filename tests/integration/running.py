"""Controller processes that run while a test acts on them, and locks that hold them up."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from .process import CONTROLLER, Controller, hand_to_postgres
from .servers import APP_DB, PG_BIN, PgServer, psql

STOP_TIMEOUT_S = 15.0


LOCK_HOLDER = "e2e-lock-holder"


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Returns once ``condition()`` holds; fails the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}", pytrace=False)
        time.sleep(0.5)


@contextmanager
def table_locked(server: PgServer, table: str, db: str = APP_DB) -> Iterator[None]:
    """Holds an ACCESS EXCLUSIVE lock on ``table`` from this host: a pg_dump of ``db`` waits.

    On exit the holder's session is ended on the server: a killed psql would
    not release the lock until its ``pg_sleep`` ends.
    """
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
            db,
            "-c",
            f"BEGIN; LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(120);",
        ],
        env={"PATH": "/usr/bin:/bin", "PGPASSWORD": server.password, "PGAPPNAME": LOCK_HOLDER},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: sessions_of(server, LOCK_HOLDER, waiting=False) == 1, 30, "the lock")
        yield
    finally:
        psql(
            server,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE application_name = '{LOCK_HOLDER}'",
            db="postgres",
        )
        holder.wait(30)


def sessions_of(server: PgServer, application_name: str, *, waiting: bool | None = None) -> int:
    """How many sessions ``application_name`` has on ``server`` (only those waiting on a lock,
    or only those not waiting, when ``waiting`` says so)."""
    condition = ""
    if waiting is not None:
        condition = f" AND (wait_event_type = 'Lock') = {str(waiting).lower()}"
    return int(
        psql(
            server,
            "SELECT count(*) FROM pg_stat_activity "
            f"WHERE application_name = '{application_name}'{condition}",
            db="postgres",
        ).strip()
    )


def sessions(server: PgServer, query: str) -> str:
    return psql(server, query, db="postgres").strip()


def dumps_connected(server: PgServer) -> int:
    """How many sessions of the controller's tools are open on ``server``."""
    return sessions_of(server, "pg-backup-manager")


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
