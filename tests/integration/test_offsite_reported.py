"""A failed upload is reported: a notification, and ``off-site: missing`` in ``status``, its
JSON and the metrics, all read from the history while the store is still down; once a
sync succeeds, ``status`` says ``off-site: ok``."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from .process import Controller, assert_one_line_error
from .receiver import free_port, receiving
from .receiver import scrape_metrics as scrape
from .running import spawn, stop
from .s3 import HOST as S3_HOST
from .s3 import S3_PORT, S3Server
from .servers import PgServers, psql
from .tcp_gate import tcp_gate
from .test_offsite_after_dump import GATE_PORT

pytestmark = pytest.mark.integration


def test_a_failed_upload_is_notified_and_reported_missing_until_a_sync_succeeds(
    pg: PgServers, controller: Controller, s3_server: S3Server, tmp_path: Path
) -> None:
    prefix = f"it-{uuid.uuid4().hex[:12]}/prod"
    psql(pg.a, "CREATE TABLE kept AS SELECT generate_series(1, 100) AS id;")
    controller.add_database("a", pg.a)
    controller.env["DATABASE_LIST"] = "a"
    controller.env.update(s3_server.environ(prefix))
    metrics_port = free_port()
    with receiving() as receiver, tcp_gate(GATE_PORT, (S3_HOST, S3_PORT)) as gate:
        urls = tmp_path / "notify-urls"
        urls.write_text(receiver.url("/notify", scheme="json") + "\n")
        controller.env.update(
            S3_ENDPOINT_URL=gate.endpoint,
            NOTIFY_URLS_FILE=str(urls),
            METRICS_PORT=str(metrics_port),
        )
        gate.close()  # the store is down

        down = controller("dump", "a")
        missing = controller("status", "a")
        missing_json = controller("status", "a", "--json")
        process = spawn(controller, "start")  # outside production: only the metrics
        try:
            scraped = scrape(metrics_port)
        finally:
            code, _, err = stop(process)
        gate.open()  # and back
        synced = controller("sync", "a")
        ok = controller("status", "a")

    assert_one_line_error(down, 1)
    [name] = controller.backups("a")
    [line] = [line for line in missing.stdout.splitlines() if "off-site:" in line]
    assert missing.returncode == 0, missing
    assert line.startswith(
        "  off-site: missing (1 of 1 backup(s) not off-site, the newest among them; "
        "last sync failed at "
    ), line
    assert "unreachable" in line, line
    assert missing_json.returncode == 0, missing_json
    [entry] = json.loads(missing_json.stdout)["databases"]
    assert entry["offsite"]["state"] == "missing"
    assert entry["offsite"]["missing_backups"] == [name]
    assert entry["offsite"]["newest_backup_offsite"] is False
    assert code == 0, err
    assert 'pg_backup_offsite_missing{database="a"} 1.0' in scraped
    assert 'pg_backup_offsite_last_failure_timestamp_seconds{database="a"}' in scraped
    [notice] = [r for r in receiver.requests if r.path == "/notify"]
    assert "a: sync failure" in notice.body and "unreachable" in notice.body
    assert f"off-site: missing 1 backup(s): {name} (kept locally)" in notice.body
    assert synced.returncode == 0, synced
    assert "  off-site: ok (1 backup(s) off-site; last sync " in ok.stdout, ok
    for run in (down, missing, missing_json, synced, ok):
        assert s3_server.secret_key not in run.output
    assert s3_server.secret_key not in scraped + notice.body
