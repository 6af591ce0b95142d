"""What the operator sees of backups whose names lie about their time: one dated in the
future never keeps a failing database healthy (``health``, ``status`` and the metrics), and
one renamed into the past is not off-site until a sync uploads it."""

from __future__ import annotations

import json
import shutil
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pg_backup_manager.domain.names import BackupName

from .process import Controller
from .receiver import free_port
from .receiver import scrape_metrics as scrape
from .running import spawn, stop, wait_until
from .s3 import S3Server
from .servers import PgServers, psql
from .test_monitoring import _in_namespace as in_namespace

pytestmark = pytest.mark.integration


def renamed(directory: Path, name: str, at: datetime, *, keep: bool = False) -> str:
    """Give backup ``name`` (its archive, globals and checksums) the name of a backup taken
    ``at``, as a hand or a wrong clock would; ``keep`` copies instead. Returns the name."""
    old = BackupName.parse(name)
    new = BackupName.for_run(tier=old.tier, at=at.replace(microsecond=0))
    for before, after in ((str(old), str(new)), (old.globals_name, new.globals_name)):
        source, target = directory / before, directory / after
        if not source.exists():
            continue
        (shutil.copy2 if keep else shutil.move)(source, target)
        checksum = source.with_name(before + ".sha256")
        digest = checksum.read_text().split()[0]
        target.with_name(after + ".sha256").write_text(f"{digest}  {after}\n")
        if not keep:
            checksum.unlink()
    return str(new)


def test_a_backup_dated_in_the_future_never_keeps_a_failing_database_healthy(
    pg: PgServers, controller: Controller, tmp_path: Path
) -> None:
    psql(pg.a, "CREATE TABLE t AS SELECT 1 AS id")
    root = tmp_path / "var-lib-postgresql"
    directory = root / "backup" / "data" / "a"
    directory.parent.mkdir(parents=True)
    metrics_port = free_port()
    controller.add_database("a", pg.a)
    controller.env.update(
        MODE="production",
        BACKUP_SCHEDULE="0 0 1 1 *",
        BACKUP_MAX_AGE="3600",
        METRICS_PORT=str(metrics_port),
    )
    made = in_namespace(controller, root, "dump", "a")
    [name] = [path.name for path in directory.glob("*.dump")]
    now = datetime.now(UTC)
    stale = renamed(directory, name, now - timedelta(days=2))
    future = renamed(directory, stale, now + timedelta(hours=17), keep=True)
    controller.env["A_POSTGRES_PASSWORD"] = "wrong-password-5e1f"

    failed = in_namespace(controller, root, "dump", "a")
    process = spawn(controller, "start", namespace_root=root)
    try:
        wait_until(
            lambda: in_namespace(controller, root, "health", "--liveness")[0] == 0,
            60,
            "the scheduler's heartbeat",
        )
        health = in_namespace(controller, root, "health")
        status = in_namespace(controller, root, "status", "a", "--json")
        text = in_namespace(controller, root, "status", "a")
        scraped = scrape(metrics_port)
    finally:
        code, _, err = stop(process)

    assert made[0] == 0, made
    assert failed[0] == 1 and "password authentication failed" in failed[2], failed
    assert code == 0, err
    assert health[0] == 1, health
    assert f"a: newest backup is 2.0 days old ({stale}), more than 60 min" in health[2]
    assert f"1 backup(s) dated in the future ignored ({future})" in health[2]
    assert "password authentication failed" in health[2]
    assert status[0] == 0, status
    [entry] = json.loads(status[1])["databases"]
    assert (entry["healthy"], entry["newest_backup"]["name"]) == (False, stale)
    assert entry["newest_backup_age_seconds"] > 2 * 86400 - 600
    assert entry["future_backups"] == [future]
    assert (
        "a: UNHEALTHY" in text[1] and f"dated in future:  1 backup(s) ignored: {future}" in text[1]
    )
    assert 'pg_backup_healthy{database="a"} 0.0' in scraped
    for said in (failed, health, status, text):
        assert "wrong-password-5e1f" not in said[1] + said[2]


def test_a_backup_renamed_into_the_past_is_not_off_site_until_a_sync_uploads_it(
    pg: PgServers, controller: Controller, s3_server: S3Server
) -> None:
    psql(pg.a, "CREATE TABLE kept AS SELECT generate_series(1, 100) AS id;")
    controller.add_database("a", pg.a)
    controller.env.update(s3_server.environ(f"it-{uuid.uuid4().hex[:12]}/prod"))
    dumped = controller("dump", "a")
    [name] = controller.backups("a")
    uploaded = controller("status", "a")

    past = renamed(controller.data_dir("a"), name, datetime.now(UTC) - timedelta(days=1))
    renamed_status = controller("status", "a")
    renamed_json = controller("status", "a", "--json")
    synced = controller("sync", "a")
    after = controller("status", "a")

    assert dumped.returncode == 0, dumped
    assert "  off-site: ok (1 backup(s) off-site; last sync " in uploaded.stdout, uploaded
    assert renamed_status.returncode == 0, renamed_status
    assert (
        "  off-site: missing (1 of 1 backup(s) not off-site, the newest among them; last sync "
        in renamed_status.stdout
    ), renamed_status
    [entry] = json.loads(renamed_json.stdout)["databases"]
    assert entry["offsite"]["state"] == "missing"
    assert entry["offsite"]["missing_backups"] == [past]
    assert synced.returncode == 0 and "1 uploaded" in synced.stdout, synced
    assert "  off-site: ok (1 backup(s) off-site; last sync " in after.stdout, after
