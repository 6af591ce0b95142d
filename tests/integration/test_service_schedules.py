"""Services with schedules of their own (``<SERVICE>_BACKUP_SCHEDULE``): the real
scheduler (``controller start``) dumps each at its own times from a real server, and
``status --json``, ``config`` and ``/metrics`` show each service's own next run and
freshness.

The server is a cluster of this host (no Docker); the scheduler runs in a private
mount namespace with a directory of the test on /var/lib/postgresql, as in
``test_start``.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pg_backup_manager.adapters.monitoring.run_history import HISTORY_NAME

from .process import Controller, assert_one_line_error
from .receiver import free_port, scrape_metrics
from .regression_db import started_new, temporary_root
from .running import spawn, stop, wait_until
from .servers import PgServer, psql
from .test_monitoring import _in_namespace as in_namespace

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server() -> Iterator[PgServer]:
    """A new cluster of this host with two databases, one per service."""
    root = temporary_root()
    try:
        with started_new(root / "cluster") as host:
            for name in ("every_db", "later_db"):
                psql(host.server, f"CREATE DATABASE {name}", db="postgres")
            psql(host.server, "CREATE TABLE t AS SELECT 1 AS id", db="every_db")
            yield host.server
    finally:
        shutil.rmtree(root, ignore_errors=True)


def scheduled_runs(directory: Path) -> list[dict[str, object]]:
    """The records of the scheduled runs in ``directory``'s history ([] without one)."""
    history = directory / HISTORY_NAME
    if not history.is_file():
        return []
    records = [json.loads(line) for line in history.read_text().splitlines()]
    return [record for record in records if record["operation"] == "scheduled"]


def test_two_services_are_dumped_at_their_own_times_and_status_shows_each_ones_schedule(
    server: PgServer, controller: Controller, tmp_path: Path
) -> None:
    root = tmp_path / "var-lib-postgresql"
    data = root / "backup" / "data"
    data.mkdir(parents=True)
    # BACKUP_SCHEDULE, which "later" follows: a time of day twelve hours from now.
    later = (datetime.now(UTC) + timedelta(hours=12)).replace(second=0, microsecond=0)
    controller.add_database("every", server, db="every_db")
    controller.add_database("later", server, db="later_db")
    metrics_port = free_port()
    controller.env.update(
        MODE="production",
        BACKUP_SCHEDULE=f"{later.minute} {later.hour} * * *",
        EVERY_BACKUP_SCHEDULE="* * * * *",
        METRICS_PORT=str(metrics_port),
    )

    process = spawn(controller, "start", namespace_root=root)
    try:
        wait_until(
            lambda: len(scheduled_runs(data / "every")) >= 2, 150, "two scheduled runs of every"
        )
        asked_at = datetime.now(UTC)
        status = in_namespace(controller, root, "status", "--json")
        config = in_namespace(controller, root, "config")
        scraped = scrape_metrics(metrics_port)
    finally:
        code, _, err = stop(process)

    assert code == 0, err
    first, second = scheduled_runs(data / "every")[:2]
    assert first["outcome"] == second["outcome"] == "success", (first, second)
    assert first["backup"] != second["backup"]
    assert len(list((data / "every").glob("file_*.dump"))) >= 2
    assert scheduled_runs(data / "later") == []
    assert list((data / "later").glob("file_*")) == []
    assert "every on * * * * * (UTC)" in err
    announced = [line for line in err.splitlines() if "next scheduled backup at" in line]
    assert len(announced) >= 2 and all(line.endswith(" for every") for line in announced), err
    assert status[0] == 0, status
    by_database = {entry["database"]: entry for entry in json.loads(status[1])["databases"]}
    every, not_yet = by_database["every"], by_database["later"]
    next_minute = asked_at.replace(second=0, microsecond=0) + timedelta(minutes=1)
    assert every["next_run_at"] >= f"{next_minute:%Y-%m-%dT%H:%M:%SZ}"
    assert every["next_run_at"] <= f"{next_minute + timedelta(minutes=1):%Y-%m-%dT%H:%M:%SZ}"
    assert not_yet["next_run_at"] == f"{later:%Y-%m-%dT%H:%M:%SZ}"
    assert (every["max_age_seconds"], not_yet["max_age_seconds"]) == (120, 2 * 86400)
    assert every["healthy"] and every["newest_backup"] is not None
    assert every["newest_backup_age_seconds"] <= 120
    assert not_yet["healthy"] and not_yet["newest_backup"] is None  # its first max age
    shown = {line.split()[0]: line.split(None, 1)[1] for line in config[1].splitlines()}
    assert config[0] == 0, config
    assert shown["EVERY_BACKUP_SCHEDULE"] == "* * * * *  [environment]"
    assert shown["LATER_BACKUP_SCHEDULE"] == (
        f"{later.minute} {later.hour} * * *  [default: BACKUP_SCHEDULE]"
    )
    assert shown["EVERY_BACKUP_MAX_AGE"] == (
        "120  [default: twice the longest gap of EVERY_BACKUP_SCHEDULE]"
    )
    assert 'pg_backup_max_age_seconds{database="every"} 120.0' in scraped
    assert 'pg_backup_max_age_seconds{database="later"} 172800.0' in scraped
    assert 'pg_backup_healthy{database="every"} 1.0' in scraped


@pytest.mark.parametrize(
    ("variable", "value"),
    [("EVERY_BACKUP_SCHEDULE", "* * *"), ("EVERY_BACKUP_MAX_AGE", "ten minutes")],
)
def test_start_refuses_a_bad_schedule_or_max_age_of_a_service_in_one_line_naming_it(
    controller: Controller, variable: str, value: str
) -> None:
    controller.env.update(DATABASE_LIST="every", MODE="production", **{variable: value})

    run = controller("start")

    assert_one_line_error(run, 2)
    assert run.stderr.startswith(f"error: {variable} ")
