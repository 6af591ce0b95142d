"""After each dump and scheduled run, with OFFSITE_URL set, what is missing off-site goes
up. A store that is down (a TCP gate in front of the real server, closed) keeps the
backup local, says so and exits 1; once it is back, the next dump uploads both backups,
oldest first. A store that stops in the middle of an upload leaves nothing listed, and
the next sync completes it."""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from .process import Controller, assert_one_line_error
from .running import spawn, stop, wait_until
from .s3 import HOST as S3_HOST
from .s3 import S3_PORT, S3Server
from .servers import PgServers, psql
from .tcp_gate import tcp_gate
from .test_offsite import plant_backup

GATE_PORT = 28397  # below the ephemeral range; SeaweedFS's ports are 28330-28335

pytestmark = pytest.mark.integration


def test_a_dump_while_the_store_is_down_stays_local_and_the_next_dump_uploads_both(
    pg: PgServers, controller: Controller, s3_server: S3Server
) -> None:
    prefix = f"it-{uuid.uuid4().hex[:12]}/prod"
    psql(pg.a, "CREATE TABLE kept AS SELECT generate_series(1, 100) AS id;")
    controller.add_database("a", pg.a)
    controller.env["DATABASE_LIST"] = "a"
    controller.env.update(s3_server.environ(prefix))
    with tcp_gate(GATE_PORT, (S3_HOST, S3_PORT)) as gate:
        controller.env["S3_ENDPOINT_URL"] = gate.endpoint
        gate.close()  # the store is down

        down = controller("dump", "a")
        [first] = controller.backups("a")
        local = (controller.data_dir("a") / first).read_bytes()
        gate.open()  # and back
        back = controller("dump", "a")

    assert_one_line_error(down, 1)
    assert f"{first} exists locally but is not off-site yet" in down.stderr, down
    assert "unreachable" in down.stderr, down
    assert s3_server.secret_key not in down.output
    assert back.returncode == 0, back
    second = next(name for name in controller.backups("a") if name != first)
    assert [line.split(" (")[0] for line in back.stdout.splitlines()[1:]] == [
        f"a: uploaded {first}",
        f"a: uploaded {second}",
    ]
    assert (controller.data_dir("a") / first).read_bytes() == local
    keys = s3_server.keys(prefix)
    assert f"{prefix}/a/{first}" in keys and f"{prefix}/a/{second}" in keys
    history = [
        json.loads(line)
        for line in (controller.data_dir("a") / "history.jsonl").read_text().splitlines()
    ]
    assert [(r["operation"], r["outcome"]) for r in history] == [
        ("dump", "success"),
        ("sync", "failure"),
        ("dump", "success"),
        ("sync", "success"),
    ]


def test_a_scheduled_run_uploads_oldest_first_then_applies_retention_off_site(
    pg: PgServers, controller: Controller, s3_server: S3Server, tmp_path: Path
) -> None:
    prefix = f"it-{uuid.uuid4().hex[:12]}/prod"
    root = tmp_path / "var-lib-postgresql"
    data = root / "backup" / "data" / "a"
    data.mkdir(parents=True)
    older = backup_name("weekly", timedelta(days=3))
    content = os.urandom(700)
    (data / older).write_bytes(content)
    (data / f"{older}.sha256").write_text(f"{hashlib.sha256(content).hexdigest()}  {older}\n")
    expired = backup_name("daily", timedelta(days=9))
    expired_key = f"{prefix}/a/{expired}"
    client = s3_server.client()
    # A copy as the controller leaves it (retention deletes nothing it would not restore):
    # its SHA-256 recorded with it, and its checksum object.
    expired_digest = hashlib.sha256(b"an old copy").hexdigest()
    client.put_object(
        Bucket=s3_server.bucket,
        Key=expired_key,
        Body=b"an old copy",
        Metadata={"sha256": expired_digest},
    )
    client.put_object(
        Bucket=s3_server.bucket,
        Key=f"{expired_key}.sha256",
        Body=f"{expired_digest}  {expired}\n".encode(),
    )
    psql(pg.a, "CREATE TABLE kept AS SELECT generate_series(1, 100) AS id;")
    controller.add_database("a", pg.a)
    controller.env["DATABASE_LIST"] = "a"
    controller.env.update(s3_server.environ(prefix))
    controller.env.update(
        MODE="production",
        SERVER="production",
        BACKUP_ON_START="true",
        BACKUP_SCHEDULE="0 3 1 1 *",  # no scheduled run meanwhile: the one at start only
    )

    process = spawn(controller, "start", namespace_root=root)
    try:
        wait_until(
            lambda: expired_key not in s3_server.keys(prefix),
            90,
            "the backup at start, its upload and retention off-site",
        )
    finally:
        code, _, err = stop(process)

    [new] = [p.name for p in data.glob("file_*.dump") if p.name != older]
    assert code == 0, err
    uploads = [line.split(": ")[-1] for line in err.splitlines() if "off-site" in line]
    assert uploads[:2] == [f"uploaded {older} off-site", f"uploaded {new} off-site"], err
    assert f"{expired_key}.sha256" not in s3_server.keys(prefix)
    assert f"{prefix}/a/{older}" in s3_server.keys(prefix)
    assert f"{prefix}/a/{new}" in s3_server.keys(prefix)
    assert (data / older).read_bytes() == content


def backup_name(tier: str, age: timedelta) -> str:
    return f"file_{tier}_{(datetime.now(UTC) - age):%Y-%m-%dT%H:%M:%S}Z.dump"


def test_a_store_that_stops_during_an_upload_lists_nothing_and_the_next_sync_completes_it(
    controller: Controller, s3_server: S3Server
) -> None:
    prefix = f"it-{uuid.uuid4().hex[:12]}/prod"
    name = "file_daily_2024-07-03T03:00:00Z.dump"
    content = os.urandom(24 * 1024 * 1024)
    plant_backup(controller, "a", name, content)
    controller.env["DATABASE_LIST"] = "a"
    controller.env.update(s3_server.environ(prefix))
    with tcp_gate(GATE_PORT, (S3_HOST, S3_PORT)) as gate:
        controller.env["S3_ENDPOINT_URL"] = gate.endpoint
        gate.close_after_bytes = 8 * 1024 * 1024  # the server stops a third into the archive

        cut = controller("sync", "a")
        listed_after_cut = controller("list", "a", "--remote")  # the gate is closed now
        keys_after_cut = s3_server.keys(prefix)
        gate.close_after_bytes = None
        gate.open()
        listed_back = controller("list", "a", "--remote")
        completed = controller("sync", "a")

    assert_one_line_error(cut, 1)
    assert "1 backup(s) not off-site, kept locally" in cut.stderr, cut
    assert_one_line_error(listed_after_cut, 1)
    assert f"{prefix}/a/{name}" not in keys_after_cut
    assert f"{prefix}/a/{name}.sha256" in keys_after_cut  # cut in the archive's upload
    assert listed_back.stdout.startswith("no off-site copies of a"), listed_back
    assert completed.returncode == 0, completed
    body = s3_server.client().get_object(Bucket=s3_server.bucket, Key=f"{prefix}/a/{name}")
    assert hashlib.sha256(body["Body"].read()).hexdigest() == hashlib.sha256(content).hexdigest()
    assert (controller.data_dir("a") / name).read_bytes() == content
