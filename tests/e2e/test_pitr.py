"""Point-in-time recovery end to end, through the image, for PostgreSQL 15, 17 and 18.

A second controller container of the image (``pitr.ArchivingController``; the stack's
own keeps WAL archiving off, or its other tests would fight a receiver) runs
``controller start`` with ``<SERVICE>_WAL_ARCHIVE=true`` for the stack's three
servers: it creates each slot, takes a base backup and keeps ``pg_receivewal``
streaming. For each server, a host psql inserts a timestamped row every 100 ms; the
server's container is killed with SIGKILL; ``recover --to latest`` and ``recover --to
<a time between two rows>`` write two new data directories; a new container of the
same test image starts on each, replays and promotes. The first holds every row up to
at most ``RPO_BOUND_S`` before the kill, with no hole (the measured RPO is printed: run
with ``-s``); the second exactly the rows committed up to the time. The killed server
is started again for the tests after these, and its slot dropped at the end.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import attrs
import pytest

from ..integration.regression_db import free_port
from ..integration.servers import PgServer, psql, run_psql
from .conftest import quiet_schedule
from .pitr import (
    RESTORE_IN_CONTAINER,
    TABLE,
    ArchivingController,
    Row,
    Writer,
    container_logs,
    docker,
)
from .stack import E2E_SERVERS, ContainerStack

pytestmark = pytest.mark.integration

SERVERS = pytest.mark.parametrize(
    ("server", "major"), list(E2E_SERVERS.values()), ids=list(E2E_SERVERS)
)
POSTGRES_UID = 999  # the postgres user of the controller and server images
RPO_BOUND_S = 5.0  # "every row committed until at most a few seconds before the kill"
WRITE_FOR_S = 10.0
TARGET_MARGIN_S = 0.04  # the --to time is at least this far from each row's commit
SLOTS = r"pg\_backup\_manager\_%"


@pytest.fixture(scope="module")
def archiving(
    container_stack: ContainerStack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ArchivingController]:
    """The archiving controller, once every server has a window; removed at the end with
    its volume, what ``recover`` wrote, and its slots on the servers."""
    restore = tmp_path_factory.mktemp("pitr-restore")
    os.chown(restore, POSTGRES_UID, POSTGRES_UID)
    restore.chmod(0o700)
    controller = ArchivingController(restore_dir=restore)
    controller.start(quiet_schedule())
    try:
        for service in E2E_SERVERS:
            controller.wait_for_window(service)
        yield controller
    finally:
        controller.remove()
        for server, _ in E2E_SERVERS.values():
            drop_slots_and_table(server)
        shutil.rmtree(restore, ignore_errors=True)


@attrs.define
class RecoveredServer:
    """A new server container of the test image of ``major`` on ``directory`` (under
    /restore), on ``port``: the recovered configuration names the old port, overridden
    on the command line as an operator would."""

    name: str
    major: int
    directory: str
    port: int
    password: str
    host_restore_dir: Path

    def start(self) -> PgServer:
        docker("rm", "-f", self.name, check=False)
        docker(
            *f"run -d --name {self.name} --network host".split(),
            *("-v", f"{self.host_restore_dir}:{RESTORE_IN_CONTAINER}"),
            *("-e", f"PGDATA={RESTORE_IN_CONTAINER}/{self.directory}", "-e", "POSTGRES_PASSWORD"),
            f"pg-backup-manager-test-postgres:{self.major}",
            *f"-c port={self.port} -c listen_addresses=127.0.0.1".split(),
            env={"POSTGRES_PASSWORD": self.password},
        )
        return PgServer(service=self.name, port=self.port, password=self.password)

    def promoted(self, server: PgServer, timeout: float = 120.0) -> None:
        """Returns once the server answers and is out of recovery; AssertionError with its
        log otherwise."""

        def out_of_recovery() -> bool:
            said = run_psql(server, "SELECT pg_is_in_recovery()", db="postgres", check=False)
            return said.returncode == 0 and said.stdout.strip() == "f"

        deadline = time.monotonic() + timeout
        while not out_of_recovery():
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{self.name} did not promote in {timeout:.0f} s:\n{self.logs()}"
                )
            time.sleep(0.5)

    def logs(self) -> str:
        return container_logs(self.name)

    def remove(self) -> None:
        docker("rm", "-f", self.name, check=False)


def drop_slots_and_table(server: PgServer, timeout: float = 60.0) -> None:
    """Drops the controller's slots on ``server`` once no receiver holds them, and the table."""
    deadline = time.monotonic() + timeout
    left = f"SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE '{SLOTS}'"
    while psql(server, left, db="postgres").strip() != "0":
        assert time.monotonic() < deadline, f"slots of {server.service} still active"
        psql(
            server,
            "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
            f"WHERE slot_name LIKE '{SLOTS}' AND NOT active",
            db="postgres",
        )
        time.sleep(0.5)
    psql(server, f"DROP TABLE IF EXISTS {TABLE}")


def rows_in(server: PgServer) -> list[tuple[int, float]]:
    said = run_psql(server, f"SELECT id, extract(epoch FROM at) FROM {TABLE} ORDER BY id")
    return [
        (int(i), float(at)) for i, at in (line.split("\t") for line in said.stdout.splitlines())
    ]


def target_between(rows: list[Row]) -> tuple[int, float]:
    """Return a row of the middle of the run and a time after its commit (acknowledged)
    and before the next row began, ``TARGET_MARGIN_S`` from each."""
    for before, after in zip(rows[len(rows) // 2 :], rows[len(rows) // 2 + 1 :], strict=False):
        if after.at - before.acked >= 2 * TARGET_MARGIN_S:
            return before.id, (before.acked + after.at) / 2
    raise AssertionError(f"no two rows {2 * TARGET_MARGIN_S} s apart: {rows}")


def rfc3339(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


@SERVERS
def test_a_killed_server_comes_back_to_its_last_seconds_and_to_any_time(
    container_stack: ContainerStack,
    archiving: ArchivingController,
    server: PgServer,
    major: int,
) -> None:
    service = server.service
    [container] = container_stack.compose("ps", "-q", service).stdout.split()
    writer = Writer(server)
    writer.start()
    time.sleep(WRITE_FOR_S)
    container_stack.docker("kill", "--signal=KILL", container)
    killed_at = time.time()
    writer.stop()
    recovered = [
        RecoveredServer(
            f"pg-backup-manager-e2e-pitr-{service}-{kind}",
            major,
            f"{service}-{kind}",
            free_port(),
            server.password,
            archiving.restore_dir,
        )
        for kind in ("latest", "at")
    ]
    try:
        time.sleep(2.0)  # what pg_receivewal had is on disk; the receiver now retries
        target_id, target = target_between(writer.rows)
        latest = archiving.controller(
            "recover", service, "--to", "latest", "--into", f"/restore/{service}-latest"
        )
        at = archiving.controller(
            "recover", service, "--to", rfc3339(target), "--into", f"/restore/{service}-at"
        )
        assert latest.returncode == 0, latest
        assert at.returncode == 0, at
        started = [each.start() for each in recovered]
        for each, new in zip(recovered, started, strict=True):
            each.promoted(new)
        after_latest, after_target = (rows_in(new) for new in started)
    finally:
        for each in recovered:
            each.remove()
        container_stack.start_server(server)

    acked = {row.id: row.at for row in writer.rows}
    newest_id, newest_at = after_latest[-1]
    rpo = killed_at - newest_at
    lost = sorted(set(acked) - {i for i, _ in after_latest})
    print(
        f"\n{service} (PostgreSQL {major}): RPO {rpo:.3f} s: the newest row recovered "
        f"({newest_id}) was written {rpo:.3f} s before the kill returned; {len(writer.rows)} "
        f"rows acknowledged, {len(lost)} of them lost ({lost}); --to {rfc3339(target)} "
        f"brought back rows 1..{target_id}"
    )
    assert [i for i, _ in after_latest] == list(range(1, newest_id + 1)), "a hole in the rows"
    assert all(acked[i] == at for i, at in after_latest if i in acked)
    assert rpo <= RPO_BOUND_S, f"RPO {rpo:.3f} s"
    assert all(row.id <= newest_id for row in writer.rows if row.acked <= killed_at - RPO_BOUND_S)
    assert after_target == [(row.id, row.at) for row in writer.rows if row.at <= target]
    assert after_target[-1][0] == target_id
