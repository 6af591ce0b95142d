"""The image's HEALTHCHECK judges fresh backups: unhealthy with a stale newest backup,
healthy again once a fresh one is made, as ``docker inspect`` reports it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..integration.running import wait_until
from .stack import CONTROLLER_IMAGE, E2E_PG15, ContainerStack

pytestmark = pytest.mark.integration

STALE = "file_daily_2020-01-01T00:00:00Z.dump"


@pytest.fixture
def lone_controller(container_stack: ContainerStack, tmp_path: Path) -> Iterator[str]:
    """A controller container of its own (backing up the stack's pg15) whose backup
    volume is a directory of the test, with a health check every 2 s."""
    backups = tmp_path / "backup"
    (backups / "data" / "pg15").mkdir(parents=True)
    (backups / "data" / "pg15" / STALE).write_bytes(b"an old backup")
    backups.chmod(0o755)
    name = f"pg-backup-manager-health-{uuid.uuid4().hex[:8]}"
    environment = {
        "DATABASE_LIST": "pg15",
        "PG15_POSTGRES_HOST": "127.0.0.1",
        "PG15_POSTGRES_PORT": str(E2E_PG15.port),
        "PG15_POSTGRES_PASSWORD": E2E_PG15.password,
        "PG15_POSTGRES_DB": "postgres",
        "MODE": "production",
        "BACKUP_SCHEDULE": "0 0 1 1 *",
        "BACKUP_MAX_AGE": "3600",
    }
    container_stack.docker(
        "run",
        "--detach",
        f"--name={name}",
        "--network=host",
        "--health-interval=2s",
        "--health-retries=1",
        "--health-start-period=0s",
        f"--volume={backups}:/var/lib/postgresql/backup",
        *(f"--env={key}={value}" for key, value in environment.items()),
        CONTROLLER_IMAGE,
    )
    try:
        yield name
    finally:
        container_stack.docker("rm", "--force", name, check=False)


def test_the_healthcheck_turns_unhealthy_on_a_stale_backup_and_healthy_after_a_dump(
    container_stack: ContainerStack, lone_controller: str
) -> None:
    def health() -> str:
        return container_stack.docker(
            "inspect", "--format={{.State.Health.Status}}", lone_controller
        ).stdout.strip()

    wait_until(lambda: health() == "unhealthy", 60, "docker to report the controller unhealthy")
    log = container_stack.docker(
        "inspect", "--format={{json .State.Health.Log}}", lone_controller
    ).stdout
    dump = container_stack.docker("exec", lone_controller, "/controller", "dump", "pg15")
    wait_until(lambda: health() == "healthy", 60, "docker to report the controller healthy")

    assert "pg15: newest backup is" in log and STALE in log, log
    assert dump.returncode == 0
