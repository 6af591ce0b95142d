"""Fixtures of the integration tests (helpers are in ``servers``, ``data`` and ``process``).

pytest-docker starts docker/compose.test.yml once per session; ``pg_servers``
waits until both servers answer ``select 1``; ``pg`` gives each test an empty
``appdb`` on both; ``controller`` runs the real controller in the test's own
directory with a clean environment. The end-to-end tests have their own
stack and fixtures (``tests/e2e``).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from .process import CONTROLLER, Controller
from .s3 import s3_server  # noqa: F401  (the session's S3 server, for the off-site tests)
from .servers import (
    APP_DB,
    PG_A,
    PG_B,
    PG_NEW,
    READY_TIMEOUT_S,
    PgServers,
    recreate_database,
    wait_for_select_1,
)

REPO = Path(__file__).resolve().parents[2]


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
        wait_for_select_1(server, deadline, compose)
    return PgServers(a=PG_A, b=PG_B)


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
