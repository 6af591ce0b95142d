"""The PostgreSQL servers of the tests, SQL through the host's psql, and waiting for them.

Two PostgreSQL 15 servers and a 17 run in Docker (``docker/compose.test.yml``,
host network, fixed ports on 127.0.0.1); the end-to-end stack has its own
(``tests/e2e/stack.py``). Every server is reached with the host's PostgreSQL 15
``psql``, its password in the environment.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

PG_BIN = Path("/usr/lib/postgresql/15/bin")
APP_DB = "appdb"
DEAD_PORT = 55499  # nothing listens here: a server that is down
READY_TIMEOUT_S = 90.0


@attrs.frozen(kw_only=True)
class PgServer:
    """One PostgreSQL server the tests reach on 127.0.0.1."""

    service: str
    port: int
    password: str
    host: str = "127.0.0.1"
    user: str = "postgres"


@attrs.frozen(kw_only=True)
class PgServers:
    a: PgServer
    b: PgServer

    def __iter__(self) -> Iterator[PgServer]:
        return iter((self.a, self.b))


PG_A = PgServer(service="pg-a", port=55432, password="secret-a")
PG_B = PgServer(service="pg-b", port=55433, password="secret-b")
PG_NEW = PgServer(service="pg-new", port=55434, password="secret-new")  # PostgreSQL 17


def run_psql(
    server: PgServer,
    sql: str,
    *,
    db: str = APP_DB,
    check: bool = True,
    single_transaction: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Runs ``sql`` (any number of statements) with psql; the password goes by environment.

    Output is unaligned, tuples only, tab-separated; timestamps are shown in UTC.
    Raises AssertionError naming the server when ``check`` and psql fails.
    """
    argv = [str(PG_BIN / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-A", "-t", "-F", "\t"]
    argv += ["-h", server.host, "-p", str(server.port), "-U", server.user, "-d", db, "-f", "-"]
    if single_transaction:
        argv.append("--single-transaction")
    env = {
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "PGPASSWORD": server.password,
        "PGCONNECT_TIMEOUT": "5",
        "PGTZ": "UTC",
    }
    result = subprocess.run(
        argv, input=sql, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"psql on {server.service}/{db} exited {result.returncode}: {result.stderr.strip()}"
        )
    return result


def psql(server: PgServer, sql: str, *, db: str = APP_DB) -> str:
    """Runs ``sql`` and returns its output (see ``run_psql``)."""
    return run_psql(server, sql, db=db).stdout


def recreate_database(server: PgServer, db: str) -> None:
    """Drops ``db`` (disconnecting its sessions) and creates it empty."""
    psql(
        server,
        f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE);\nCREATE DATABASE "{db}";\n',
        db="postgres",
    )


def answers_select_1(server: PgServer) -> bool:
    """Whether ``server`` answers ``select 1`` now, with its password."""
    result = run_psql(server, "select 1", db="postgres", check=False)
    return result.returncode == 0 and result.stdout.strip() == "1"


def wait_for_select_1(server: PgServer, deadline: float, compose: list[str]) -> None:
    """Returns once ``server`` answers ``select 1`` and is the one in its compose service.

    ``compose`` is the docker-compose argv of the server's project (``-f`` and
    ``-p`` included). Fails the test, with the service's last log lines, when
    the server does not answer by ``deadline`` (a ``time.monotonic()``), or
    when the server answering on its port is not the service's (another server
    holds the port).
    """
    while True:
        result = run_psql(server, "select 1", db="postgres", check=False)
        if result.returncode == 0 and result.stdout.strip() == "1":
            break
        if time.monotonic() > deadline:
            logs = subprocess.run(
                [*compose, "logs", "--no-color", "--tail=30", server.service],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            pytest.fail(
                f"{server.service} did not answer `select 1` on {server.host}:{server.port} "
                f"within {READY_TIMEOUT_S:.0f} s. Last psql error: {result.stderr.strip()}\n"
                f"Last lines of its log:\n{logs.stdout}{logs.stderr}",
                pytrace=False,
            )
        time.sleep(0.5)
    # Another server on the same port would answer too: make sure it is the container's.
    answering = run_psql(
        server, "SELECT system_identifier FROM pg_control_system()", db="postgres"
    ).stdout.strip()
    inside = subprocess.run(
        [*compose, "exec", "-T", server.service, "sh", "-c", 'pg_controldata "$PGDATA"'],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    found = re.search(r"Database system identifier:\s*(\d+)", inside.stdout)
    if found is None or found.group(1) != answering:
        container = found.group(1) if found else f"unknown ({inside.stderr.strip()})"
        pytest.fail(
            f"the server answering on {server.host}:{server.port} (system identifier "
            f"{answering}) is not the one in {server.service} ({container}): "
            "is another server using the port?",
            pytrace=False,
        )
