"""VERIFY_SCHEDULE with the real controller: ``controller start`` restores the newest
backup every minute into a scratch database on a real PostgreSQL 15 cluster of this host
(and, with VERIFY_REMOTE, its newest copy in an off-site directory); each result is in the
history, ``status --json``, ``/metrics`` and the notifications, and ``health`` fails after
a verification of a damaged backup until one of a good backup passes.

The production paths are bind-mounted from the test's directory (see ``test_start``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from pg_backup_manager.adapters.monitoring.run_history import HISTORY_NAME

from .pitr_cluster import host_cluster, sql
from .process import Controller, Run, assert_one_line_error
from .receiver import free_port, receiving, scrape_metrics
from .regression_db import HostServer
from .running import spawn, stop, wait_until

pytestmark = pytest.mark.integration

SERVICE = "host"
# A verification is due every minute; one of this small database takes seconds.
WAIT_S = 150.0
ROWS = 1000


@pytest.fixture(scope="module")
def cluster() -> Iterator[HostServer]:
    with host_cluster("verify-schedule") as host:
        sql(host, "CREATE DATABASE app")
        sql(host, f"CREATE TABLE t AS SELECT generate_series(1, {ROWS}) AS id", db="app")
        yield host


def verifications(data: Path, operation: str = "verify-scheduled") -> list[dict[str, object]]:
    """The scheduled verifications (of the newest backup, or of the newest off-site copy:
    ``operation``) in the service's history, oldest first."""
    history = data / HISTORY_NAME
    if not history.is_file():
        return []
    records = [json.loads(line) for line in history.read_text().splitlines() if line.strip()]
    return [record for record in records if record["operation"] == operation]


def in_namespace(controller: Controller, root: Path, *args: str) -> Run:
    """Run ``controller *args`` where ``controller start`` runs: the production paths."""
    process = spawn(controller, *args, namespace_root=root)
    out, err = process.communicate(timeout=120)
    run = Run(tuple(args), process.returncode, out, err)
    print(run)
    assert "Traceback" not in run.output
    return run


def verify_entry(controller: Controller, root: Path) -> dict[str, object]:
    status = in_namespace(controller, root, "status", "--json")
    assert status.returncode == 0
    [entry] = json.loads(status.stdout)["databases"]
    return entry  # type: ignore[no-any-return]


def damaged(error: str) -> bool:
    """Whether ``error`` says the archive is damaged: unreadable, or not its checksum."""
    return " is damaged: " in error or " is corrupt: " in error


def flip_a_byte(archive: Path) -> None:
    content = bytearray(archive.read_bytes())
    content[len(content) // 2] ^= 0xFF
    archive.write_bytes(bytes(content))


def test_scheduled_verifications_reach_history_status_metrics_notifications_and_health(
    controller: Controller, cluster: HostServer, tmp_path: Path
) -> None:
    root = tmp_path / "var-lib-postgresql"
    data = root / "backup" / "data" / SERVICE
    data.mkdir(parents=True)
    metrics_port = free_port()
    share = tmp_path / "nas"  # the off-site copies: a directory (a NAS share)
    share.mkdir(mode=0o755)
    with receiving() as receiver:
        urls = tmp_path / "notify-urls"
        urls.write_text(receiver.url("/notify", scheme="json") + "\n")
        controller.add_database(SERVICE, cluster.server, db="app")
        controller.env.update(
            MODE="production",
            BACKUP_SCHEDULE="0 0 1 1 *",  # no scheduled run: BACKUP_ON_START and `dump` only
            BACKUP_ON_START="true",
            VERIFY_SCHEDULE="* * * * *",
            METRICS_PORT=str(metrics_port),
            NOTIFY_URLS_FILE=str(urls),
            OFFSITE_URL=f"file://{share}",
            VERIFY_REMOTE="true",
        )
        process = spawn(controller, "start", namespace_root=root)
        try:
            wait_until(
                lambda: len(verifications(data, "verify-scheduled-remote")) >= 1,
                WAIT_S,
                "a first verification of the backup and of its off-site copy",
            )
            [passed] = verifications(data)[:1]
            [passed_offsite] = verifications(data, "verify-scheduled-remote")[:1]
            good = verify_entry(controller, root)
            healthy = in_namespace(controller, root, "health")
            scraped_good = scrape_metrics(metrics_port)

            flip_a_byte(data / str(passed["backup"]))
            wait_until(
                lambda: verifications(data)[-1]["outcome"] == "failure", WAIT_S, "a failed one"
            )
            failed = verifications(data)[-1]
            bad = verify_entry(controller, root)
            unhealthy = in_namespace(controller, root, "health")
            scraped_bad = scrape_metrics(metrics_port)

            dumped = in_namespace(controller, root, "dump", SERVICE)  # a good, newer backup
            wait_until(
                lambda: verifications(data)[-1]["outcome"] == "success", WAIT_S, "a passing one"
            )
            again = verifications(data)[-1]
            healthy_again = in_namespace(controller, root, "health")
            scraped_again = scrape_metrics(metrics_port)
            wait_until(
                lambda: sum(r.path == "/notify" for r in receiver.requests) >= 2,
                30,
                "the notifications",
            )
        finally:
            code, _, log = stop(process)

    assert code == 0, log
    # The history: one record per verification, of the newest backup, whose rows it counted.
    assert passed["outcome"] == "success" and passed["error"] is None
    assert passed_offsite["outcome"] == "success"
    assert passed_offsite["backup"] == passed["backup"]  # uploaded after BACKUP_ON_START
    assert failed["backup"] == passed["backup"] and damaged(str(failed["error"]))
    assert dumped.returncode == 0
    assert again["backup"] != passed["backup"] and again["note"] is not None
    assert f"{SERVICE}: verified backup {passed['backup']}: restored into a scratch" in log
    assert "the rows of its 1 table(s) counted as in the archive" in log
    # status --json
    assert good["verify"]["backup"] == passed["backup"]  # type: ignore[index]
    assert good["verify"]["outcome"] == "success" and good["healthy"] is True  # type: ignore[index]
    assert good["verify"]["offsite"]["outcome"] == "success"  # type: ignore[index]
    # The copy off-site is intact: it still passes while the local backup fails.
    assert bad["verify"]["offsite"]["outcome"] == "success"  # type: ignore[index]
    assert bad["verify"]["outcome"] == "failure" and bad["healthy"] is False  # type: ignore[index]
    assert damaged(bad["verify"]["error"])  # type: ignore[index]
    assert bad["verify"]["last_success_at"] == good["verify"]["verified_at"]  # type: ignore[index]
    # health
    assert healthy.returncode == 0, healthy
    assert_one_line_error(unhealthy, 1)
    assert f"error: {SERVICE}: last scheduled verification failed " in unhealthy.stderr
    assert str(passed["backup"]) in unhealthy.stderr
    assert healthy_again.returncode == 0, healthy_again
    # metrics
    assert f'pg_backup_last_verify_success{{database="{SERVICE}"}} 1.0' in scraped_good
    assert f'pg_backup_offsite_last_verify_success{{database="{SERVICE}"}} 1.0' in scraped_good
    assert f'pg_backup_last_verify_success{{database="{SERVICE}"}} 0.0' in scraped_bad
    assert f'pg_backup_healthy{{database="{SERVICE}"}} 0.0' in scraped_bad
    assert f'pg_backup_last_verify_success{{database="{SERVICE}"}} 1.0' in scraped_again
    assert f'pg_backup_last_verify_timestamp_seconds{{database="{SERVICE}"}}' in scraped_again
    # notifications: the failure, then its end (told whatever NOTIFY_ON says)
    notices = [r.body for r in receiver.requests if r.path == "/notify"]
    assert f"{SERVICE}: verify-scheduled failure" in notices[0]
    assert f"{SERVICE}: verify-scheduled success" in notices[1]


def test_without_mode_production_a_failed_verification_is_unhealthy_until_one_passes(
    controller: Controller, cluster: HostServer
) -> None:
    controller.add_database(SERVICE, cluster.server, db="app")
    controller.env.update(VERIFY_SCHEDULE="* * * * *")  # MODE unset: no scheduled dumps
    data = controller.data_dir(SERVICE)
    assert controller("dump", SERVICE).returncode == 0
    [backup] = controller.backups(SERVICE)
    flip_a_byte(data / backup)
    process = spawn(controller, "start")
    try:
        wait_until(lambda: len(verifications(data)) >= 1, WAIT_S, "a failed verification")
        unhealthy = controller("health")
        status = json.loads(controller("status", "--json").stdout)["databases"][0]
        assert controller("dump", SERVICE).returncode == 0  # a good, newer backup
        wait_until(lambda: len(verifications(data)) >= 2, WAIT_S, "a passing verification")
        still_unscheduled = controller("health")
    finally:
        code, _, log = stop(process)

    assert code == 0, log
    assert [v["outcome"] for v in verifications(data)] == ["failure", "success"]
    assert unhealthy.returncode == 1, unhealthy
    [mode, failed] = unhealthy.stderr.splitlines()
    assert mode.startswith("error: MODE is not 'production': nothing is scheduled")
    assert failed.startswith(f"error: {SERVICE}: last scheduled verification failed ")
    assert backup in failed and damaged(failed)
    assert status["verify"]["healthy"] is False and status["healthy"] is False
    assert still_unscheduled.returncode == 1  # nothing keeps the backups fresh
    assert still_unscheduled.stderr.splitlines() == [mode]


def test_a_bad_verify_schedule_stops_start_with_exit_2_naming_it(controller: Controller) -> None:
    controller.env.update(DATABASE_LIST="a", VERIFY_SCHEDULE="every minute")

    run = controller("start")

    assert_one_line_error(run, 2)
    assert "VERIFY_SCHEDULE 'every minute' is not a cron schedule" in run.stderr
