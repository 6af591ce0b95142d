"""Fixtures of the end-to-end tests: the controller image in the stack of docker/compose.e2e.yml.

``container_stack`` builds and starts the stack (the controller image with a
PostgreSQL 15, a 17 and an 18) once per session, holding this machine's e2e lock,
and takes it down with its volumes. These tests use neither pytest-docker nor
the integration servers of docker/compose.test.yml. ``e2e_s3_server`` is a SeaweedFS
on this host's loopback for the off-site tests, on ports of its own.
"""

from __future__ import annotations

import fcntl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ..integration.s3 import S3Server, SeaweedFSPorts, start_seaweedfs
from ..integration.servers import READY_TIMEOUT_S, wait_for_select_1
from .stack import E2E_SERVERS, ContainerStack

E2E_LOCK = Path("/tmp/pg-backup-manager-e2e.lock")
E2E_LOCK_TIMEOUT_S = 900.0
# Not the integration tests' SeaweedFS ports (28330-28335): both suites may run at once.
E2E_SEAWEEDFS_PORTS = SeaweedFSPorts(first=29330)
E2E_BUCKET = "offsite-e2e"


def quiet_schedule() -> str:
    """A daily schedule twelve hours from now in Europe/Berlin: no run during the tests."""
    return f"0 {(datetime.now(ZoneInfo('Europe/Berlin')).hour + 12) % 24} * * *"


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
        for server, _ in E2E_SERVERS.values():
            wait_for_select_1(server, deadline, stack.compose_argv())
        stack.wait_until_scheduling()
        yield stack
    finally:
        stack.compose("down", "-v", "--remove-orphans", check=False)


@pytest.fixture(scope="session")
def e2e_s3_server(
    container_stack: ContainerStack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[S3Server]:
    """SeaweedFS with S3 authentication on and the bucket ``offsite-e2e`` (S3 on 127.0.0.1:29333).

    Started after the stack, so under the e2e lock (its ports are fixed too);
    stopped before the stack is taken down.
    """
    with start_seaweedfs(
        tmp_path_factory.mktemp("seaweedfs-e2e"), E2E_SEAWEEDFS_PORTS, bucket=E2E_BUCKET
    ) as server:
        yield server
