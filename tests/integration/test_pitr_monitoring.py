"""Point-in-time recovery in the monitoring rooms, with a real ``controller start`` and its
WAL receiver against a throwaway PostgreSQL 15 cluster of this host: ``status --json``,
``health``, ``/metrics``, notifications and the dead-man's switch, as the server goes
away and comes back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from .pitr_cluster import host_cluster
from .process import Controller
from .receiver import Receiver, receiving, scrape_metrics
from .receiver import free_port as free_http_port
from .regression_db import HostServer, as_postgres
from .running import spawn, stop, wait_until
from .servers import PG_BIN

PG_BIN_ROOT = Path("/usr/lib/postgresql")


@pytest.fixture
def cluster() -> Iterator[HostServer]:
    with host_cluster("monitoring") as host:
        yield host


def in_namespace(controller: Controller, root: Path, *args: str) -> tuple[int, str, str]:
    process = spawn(controller, *args, namespace_root=root)
    out, err = process.communicate(timeout=60)
    return process.returncode, out, err


def pitr_of(controller: Controller, root: Path) -> dict[str, object]:
    code, out, err = in_namespace(controller, root, "status", "host", "--json")
    assert code == 0, err
    [entry] = json.loads(out)["databases"]
    pitr: dict[str, object] = entry["pitr"]
    return pitr


def window_to_the_newest_wal(controller: Controller, root: Path, cluster: HostServer) -> None:
    """Wait until the running ``controller start`` has a window that ends at the newest
    WAL received: the first stream gets its base backup at once; a switch closes a segment."""
    wait_until(lambda: pitr_of(controller, root)["windows"] != 0, 120, "a window")
    as_postgres(str(PG_BIN / "psql"), "-h", str(cluster.data), "-p", str(cluster.port),
                "-d", "postgres", "-XAtc", "SELECT pg_switch_wal()")  # fmt: skip
    wait_until(
        lambda: pitr_of(controller, root)["newest_wal_in_window"] is True,
        60,
        "the newest WAL in the window",
    )


def notified(receiver: Receiver, text: str) -> list[str]:
    return [r.body for r in list(receiver.requests) if r.path == "/notify" and text in r.body]


def test_a_receiver_that_loses_its_server_is_unhealthy_pinged_and_its_return_notified(
    controller: Controller, cluster: HostServer, tmp_path: Path
) -> None:
    root = tmp_path / "var-lib-postgresql"
    (root / "backup" / "data").mkdir(parents=True)
    metrics_port = free_http_port()
    with receiving() as receiver:
        controller.add_database("host", cluster.server, db="postgres")
        controller.env.update(
            MODE="production",
            BACKUP_SCHEDULE="0 0 1 1 *",  # no dump during the test: only WAL
            HOST_WAL_ARCHIVE="true",
            PG_BIN_ROOT=str(PG_BIN_ROOT),
            WAL_MAX_DELAY="5",
            NOTIFY_URLS=receiver.url("/notify", scheme="json"),  # NOTIFY_ON: failure
            HEALTHCHECKS_URL=receiver.url("/hc"),
            METRICS_PORT=str(metrics_port),
        )
        process = spawn(controller, "start", namespace_root=root)
        try:
            window_to_the_newest_wal(controller, root, cluster)
            receiving_pitr = pitr_of(controller, root)
            healthy = in_namespace(controller, root, "health")
            up = scrape_metrics(metrics_port)

            cluster.stop()
            wait_until(lambda: "/hc/fail" in receiver.paths(), 90, "the dead-man's /fail")
            unhealthy = in_namespace(controller, root, "health")
            down_pitr = pitr_of(controller, root)
            down = scrape_metrics(metrics_port)

            cluster.start()
            wait_until(lambda: bool(notified(receiver, "receiver started")), 120, "the return")
            wait_until(lambda: in_namespace(controller, root, "health")[0] == 0, 60, "health")
            back = in_namespace(controller, root, "health")
        finally:
            code, _, err = stop(process)

    assert code == 0, err
    assert healthy[0] == 0, healthy
    assert "(WAL receiving)" in healthy[1]
    assert receiving_pitr["receiver"] == "receiving" and receiving_pitr["faults"] == []
    assert receiving_pitr["window_start_at"] is not None
    assert receiving_pitr["newest_base_backup"] is not None
    assert 'pg_backup_wal_receiver_up{database="host"} 1.0' in up
    assert 'pg_backup_pitr_window_start_timestamp_seconds{database="host"}' in up
    assert 'pg_backup_pitr_window_end_timestamp_seconds{database="host"}' in up
    assert 'pg_backup_wal_last_received_timestamp_seconds{database="host"}' in up

    assert unhealthy[0] == 1, unhealthy
    assert "error: host: WAL receiver down for" in unhealthy[2]
    assert "(more than WAL_MAX_DELAY, 5 s)" in unhealthy[2]
    assert down_pitr["receiver"] == "down" and down_pitr["healthy"] is False
    assert 'pg_backup_wal_receiver_up{database="host"} 0.0' in down
    assert 'pg_backup_pitr_healthy{database="host"} 0.0' in down
    [fail] = [r for r in receiver.requests if r.path == "/hc/fail"]
    assert fail.body.startswith("host: WAL receiver: WAL receiver down for"), fail.body

    paths = receiver.paths()
    assert "/hc" in paths[paths.index("/hc/fail") :], paths  # success once it is back
    assert notified(receiver, "host: wal-receiver failure"), receiver.requests
    [returned] = notified(receiver, "receiver started")
    assert "host: wal-receiver success" in returned
    assert back[0] == 0, back
