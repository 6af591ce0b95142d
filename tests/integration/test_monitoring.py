"""Run history, status and list as JSON, notifications, pings, metrics and health,
against real servers, a real HTTP receiver on loopback and a real scheduler."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from pg_backup_manager.adapters.monitoring.run_history import HISTORY_NAME

from .process import Controller, assert_one_line_error
from .receiver import free_port, receiving, scrape_metrics
from .running import spawn, stop, wait_until
from .servers import DEAD_PORT, PG_A, PgServers, psql

pytestmark = pytest.mark.integration


def history(directory: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (directory / HISTORY_NAME).read_text().splitlines()]


def test_history_status_and_list_as_json_after_a_success_and_a_failure(
    pg: PgServers, controller: Controller
) -> None:
    psql(pg.a, "CREATE TABLE t AS SELECT generate_series(1, 10) AS id")
    controller.add_database("a", pg.a)
    controller.add_database("down", pg.b, port=DEAD_PORT)

    dump = controller("dump", "--all")
    status = controller("status", "--all", "--json")
    listed = controller("list", "--all", "--json")
    text = controller("status")

    assert dump.returncode == 1, dump
    [made] = history(controller.data_dir("a"))
    [failed] = history(controller.data_dir("down"))
    [name] = controller.backups("a")
    sha256 = (controller.data_dir("a") / f"{name}.sha256").read_text().split()[0]
    assert (made["operation"], made["outcome"], made["backup"]) == ("dump", "success", name)
    assert made["sha256"] == sha256 and made["size_bytes"]
    assert str(made["server_version"]).startswith("15.") and made["pg_dump_version"]
    assert failed["outcome"] == "failure" and "refused" in str(failed["error"])
    assert status.returncode == 0 and listed.returncode == 0 and text.returncode == 0, text
    document = json.loads(status.stdout)
    assert document["schema"] == 1
    a, down = document["databases"]
    assert (a["database"], a["healthy"], a["consecutive_failures"]) == ("a", True, 0)
    assert a["newest_backup"]["name"] == name and a["newest_backup"]["sha256"] == sha256
    assert a["last_success_at"].endswith("Z") and a["next_run_at"] is None
    assert sum(a["backups_by_tier"].values()) == 1 and a["total_bytes"] > 0
    assert (down["healthy"], down["newest_backup"], down["consecutive_failures"]) == (
        False,
        None,
        1,
    )
    assert "refused" in down["last_error"]
    backups = json.loads(listed.stdout)
    assert backups == {
        "schema": 1,
        "backups": [
            {
                "database": "a",
                "name": name,
                "tier": name.split("_")[1],
                "taken_at": name.split("_")[2].removesuffix(".dump"),
                "size_bytes": (controller.data_dir("a") / name).stat().st_size,
                "sha256": sha256,
                "globals": name.replace(".dump", ".globals.sql"),
                "partial": False,
                "left_out": [],
            }
        ],
    }
    assert "a: healthy" in text.stdout and "down: UNHEALTHY" in text.stdout


def test_config_shows_every_value_and_its_source_but_never_a_secret(
    controller: Controller, tmp_path: Path
) -> None:
    controller.add_database("a", PG_A)
    urls = tmp_path / "notify-urls"
    urls.write_text("json://user:hook-secret-77@127.0.0.1:9/x\n")
    controller.env["NOTIFY_URLS_FILE"] = str(urls)
    controller.env["HEALTHCHECKS_URL"] = "https://hc.example/ping/uuid-secret-88"

    run = controller("config")

    assert run.returncode == 0, run
    assert "hook-secret-77" not in run.output and "uuid-secret-88" not in run.output
    [notify] = [line for line in run.stdout.splitlines() if line.startswith("NOTIFY_URLS ")]
    assert notify.split() == ["NOTIFY_URLS", "***", "[file", f"{urls}]"]
    assert "A_POSTGRES_PASSWORD" in run.stdout and "[environment]" in run.stdout
    assert "BACKUP_SCHEDULE" in run.stdout and "[default]" in run.stdout


def test_a_scheduled_run_notifies_pings_and_counts_and_health_turns_unhealthy(
    pg: PgServers, controller: Controller, tmp_path: Path
) -> None:
    psql(pg.a, "CREATE TABLE t AS SELECT 1 AS id")
    root = tmp_path / "var-lib-postgresql"
    (root / "backup" / "data").mkdir(parents=True)
    metrics_port = free_port()
    with receiving() as receiver:
        urls = tmp_path / "notify-urls"
        urls.write_text(receiver.url("/notify", scheme="json") + "\n")
        controller.add_database("a", pg.a)
        controller.add_database("b", pg.b, password="wrong-password-3b9c")
        controller.env.update(
            MODE="production",
            BACKUP_SCHEDULE="0 0 1 1 *",
            BACKUP_ON_START="true",
            BACKUP_MAX_AGE="60",
            NOTIFY_URLS_FILE=str(urls),
            HEALTHCHECKS_URL=receiver.url("/hc"),
            A_HEALTHCHECKS_URL=receiver.url("/hc-a"),
            METRICS_PORT=str(metrics_port),
        )
        started = time.monotonic()
        process = spawn(controller, "start", namespace_root=root)
        try:
            wait_until(
                lambda: {"/hc/fail", "/hc-a"} <= set(receiver.paths()), 60, "the run's last pings"
            )
            scraped = scrape_metrics(metrics_port)
            early = _in_namespace(controller, root, "health")
            wait_until(lambda: time.monotonic() - started > 62, 70, "the max age to pass")
            fresh = _in_namespace(controller, root, "dump", "a")  # a stays fresh, b cannot
            late = _in_namespace(controller, root, "health")
        finally:
            code, _, err = stop(process)

    assert code == 0, err
    paths = receiver.paths()
    assert paths.index("/hc/start") < paths.index("/hc/fail"), paths
    assert paths.index("/hc-a/start") < paths.index("/hc-a"), paths
    [fail] = [r for r in receiver.requests if r.path == "/hc/fail"]
    assert "b:" in fail.body and "password authentication failed" in fail.body
    [notice] = [r for r in receiver.requests if r.path == "/notify"]
    assert "b: scheduled failure" in notice.body and "wrong-password-3b9c" not in notice.body
    assert 'pg_backup_runs_total{database="a",outcome="success"} 1.0' in scraped
    assert 'pg_backup_runs_total{database="b",outcome="failure"} 1.0' in scraped
    assert 'pg_backup_healthy{database="a"} 1.0' in scraped
    assert 'pg_backup_backups{database="a",tier=' in scraped
    assert "pg_backup_last_success_timestamp_seconds{" in scraped
    assert early[0] == 0, early  # no backup of b yet, but within the first max age
    assert fresh[0] == 0, fresh
    assert late[0] == 1, late
    assert "b: no backup yet" in late[2] and "password authentication failed" in late[2]
    assert "error: a:" not in late[2]


def _in_namespace(controller: Controller, root: Path, *args: str) -> tuple[int, str, str]:
    process = spawn(controller, *args, namespace_root=root)
    out, err = process.communicate(timeout=60)
    return process.returncode, out, err


def test_health_outside_production_says_so_and_liveness_checks_the_scheduler_alone(
    pg: PgServers, controller: Controller
) -> None:
    controller.add_database("a", pg.a)
    process = spawn(controller, "start")
    try:
        wait_until(lambda: controller("health", "--liveness").returncode == 0, 30, "a heartbeat")
        health = controller("health")
    finally:
        stop(process)

    assert_one_line_error(health, 1)
    assert "MODE is not 'production'" in health.stderr and "--liveness" in health.stderr
