"""The host side of ``pitr.py``: psql and docker from this host, and the writer killed
under its writes. Standard library only; the password goes by environment."""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
from collections.abc import Callable

PASSWORD = "bench"
HOST_PSQL = "/usr/lib/postgresql/15/bin/psql"


def write_then_kill(port: int, server: str, seconds: float = 5.0) -> list[int]:
    """Insert a row every 100 ms for ``seconds``, then SIGKILL the container ``server`` under
    the writes; return the ids psql acknowledged (after their commit)."""
    writer = subprocess.Popen(
        [HOST_PSQL, "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(port),
         "-U", "postgres", "-d", "bench"],
        env={"PATH": "/usr/bin:/bin", "PGPASSWORD": PASSWORD},
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        bufsize=1,
    )  # fmt: skip
    assert writer.stdin is not None and writer.stdout is not None
    acked: list[int] = []

    def write() -> None:
        n = 0
        while True:
            n += 1
            try:
                writer.stdin.write(f"INSERT INTO r VALUES ({n}, clock_timestamp()) RETURNING id;\n")
                writer.stdin.flush()
            except OSError:
                return
            if not (answer := writer.stdout.readline()):
                return
            acked.append(int(answer))
            time.sleep(0.1)

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    time.sleep(seconds)
    docker("kill", "--signal=KILL", server)
    thread.join(timeout=30)
    writer.kill()
    writer.communicate()
    return acked


def sql(port: int, statement: str, *, db: str = "postgres", check: bool = True) -> str:
    done = subprocess.run(
        [HOST_PSQL, "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(port),
         "-U", "postgres", "-d", db, "-c", statement],
        env={"PATH": "/usr/bin:/bin", "PGPASSWORD": PASSWORD, "PGCONNECT_TIMEOUT": "5"},
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if check and done.returncode != 0:
        raise SystemExit(f"psql on port {port}: {done.stderr.strip()}")
    return done.stdout.strip()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.5)


def docker(*args: str, env: dict[str, str] | None = None, check: bool = True) -> str:
    """Runs ``docker args``; the passwords go by environment (``-e NAME``)."""
    full = {**os.environ, "PGPASSWORD": PASSWORD, "POSTGRES_PASSWORD": PASSWORD, **(env or {})}
    done = subprocess.run(["docker", *args], env=full, capture_output=True, text=True)
    if check and done.returncode != 0:
        raise SystemExit(f"docker {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout
