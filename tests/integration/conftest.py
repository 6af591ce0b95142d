"""Fixtures of the integration tests (helpers are in ``support``).

pytest-docker starts docker/compose.test.yml once per session; ``pg_servers``
waits until both servers answer ``select 1``; ``pg`` gives each test an empty
``appdb`` on both; ``controller`` runs the real controller in the test's own
directory with a clean environment. ``container_stack`` builds and starts
docker/compose.e2e.yml (the controller image with a PostgreSQL 15 and a 17)
once per session for the end-to-end tests, and takes it down with its volumes.
"""

from __future__ import annotations

import fcntl
import re
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from .container import E2E_PG15, E2E_PG17, ContainerStack
from .support import (
    APP_DB,
    CONTROLLER,
    PG_A,
    PG_B,
    PG_NEW,
    Controller,
    PgServer,
    PgServers,
    recreate_database,
    run_psql,
)

REPO = Path(__file__).resolve().parents[2]
READY_TIMEOUT_S = 90.0


# --- pytest-docker, set up for Compose v1 and host networking -------------------------------


@pytest.fixture(scope="session")
def docker_compose_command() -> str:
    return "docker-compose"


@pytest.fixture(scope="session")
def docker_compose_file() -> str:
    return str(REPO / "docker" / "compose.test.yml")


@pytest.fixture(scope="session")
def docker_compose_project_name() -> str:
    return "pg-backup-manager-it"


@pytest.fixture(scope="session")
def docker_setup() -> list[str]:
    # Compose v1 has no --wait: with it, it prints its help and starts nothing.
    return ["up --build -d"]


@pytest.fixture(scope="session")
def docker_cleanup() -> list[str]:
    return ["down -v"]


@pytest.fixture(scope="session")
def pg_servers(
    docker_services: Any,
    docker_compose_command: str,
    docker_compose_file: str,
    docker_compose_project_name: str,
) -> PgServers:
    """Both servers, once each answers ``select 1`` with its password."""
    compose = [docker_compose_command, "-f", docker_compose_file, "-p", docker_compose_project_name]
    deadline = time.monotonic() + READY_TIMEOUT_S
    for server in (PG_A, PG_B, PG_NEW):
        _wait_for_select_1(server, deadline, compose)
    return PgServers(a=PG_A, b=PG_B)


def _wait_for_select_1(server: PgServer, deadline: float, compose: list[str]) -> None:
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


@pytest.fixture
def pg(pg_servers: PgServers) -> PgServers:
    """Both servers, with an empty ``appdb`` on each, made afresh for the test."""
    for server in pg_servers:
        recreate_database(server, APP_DB)
    return pg_servers


@pytest.fixture
def controller(tmp_path: Path) -> Controller:
    """A controller with a clean environment and no database yet (see ``add_database``)."""
    home = tmp_path / "home"
    home.mkdir()
    env = {
        "PATH": f"{CONTROLLER.parent}:/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "TZ": "UTC",
        # An empty home: no ~/.pgpass or ~/.psqlrc of the machine can help or hinder.
        "HOME": str(home),
    }
    return Controller(workdir=tmp_path, env=env)


# --- the controller container: docker/compose.e2e.yml ----------------------------------------


def quiet_schedule() -> str:
    """A daily schedule twelve hours from now in Europe/Berlin: no run during the tests."""
    return f"0 {(datetime.now(ZoneInfo('Europe/Berlin')).hour + 12) % 24} * * *"


E2E_LOCK = Path("/tmp/pg-backup-manager-e2e.lock")
E2E_LOCK_TIMEOUT_S = 900.0


@contextmanager
def e2e_lock() -> Iterator[None]:
    """Holds this machine's e2e lock, waiting while another test session holds it.

    The stack's project name and ports are fixed: two sessions at once would
    take each other's stack down.
    """
    with E2E_LOCK.open("a") as lock:
        deadline = time.monotonic() + E2E_LOCK_TIMEOUT_S
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    pytest.fail(
                        f"another test session held {E2E_LOCK} for {E2E_LOCK_TIMEOUT_S:.0f} s",
                        pytrace=False,
                    )
                time.sleep(1.0)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def container_stack() -> Iterator[ContainerStack]:
    """The e2e stack, built and started once, with its controller scheduling.

    Taken down with its volumes at the end of the session, whatever happened;
    what a crashed earlier session left is taken down first.
    """
    with e2e_lock():
        yield from _started_stack()


def _started_stack() -> Iterator[ContainerStack]:
    stack = ContainerStack(schedule=quiet_schedule())
    stack.compose("down", "-v", "--remove-orphans", check=False)
    try:
        up = stack.compose("up", "--build", "-d", check=False)
        if up.returncode != 0:
            pytest.fail(
                f"docker-compose up of {stack.compose_argv()} exited {up.returncode}:\n"
                f"{up.stdout[-4000:]}{up.stderr[-4000:]}",
                pytrace=False,
            )
        deadline = time.monotonic() + READY_TIMEOUT_S
        for server in (E2E_PG15, E2E_PG17):
            _wait_for_select_1(server, deadline, stack.compose_argv())
        stack.wait_until_scheduling()
        yield stack
    finally:
        stack.compose("down", "-v", "--remove-orphans", check=False)
