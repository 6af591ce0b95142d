"""``controller basebackup`` and ``list --pitr`` against a throwaway PostgreSQL 15 cluster
of this host: committed only whole and checked, in the right stream, never half-listed."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pg_backup_manager.adapters.pitr.verifybackup import PgVerifyBackup
from pg_backup_manager.adapters.postgres.pg_binaries import PgBinaries
from pg_backup_manager.domain.errors import IntegrityError

from .disks import tiny_tmpfs
from .pitr_cluster import archive, host_cluster, sql
from .process import Controller, assert_one_line_error, spawn_in_group
from .regression_db import HostServer, new_cluster, temporary_root
from .servers import PG_BIN

PG_BIN_ROOT = Path("/usr/lib/postgresql")
LINE = re.compile(
    r"basebackup host: (?P<name>\S+Z) \([\d.]+ \w*B, \d+s, timeline 1, "
    r"WAL (?P<start>[0-9A-F]+/[0-9A-F]+)\.\.(?P<end>[0-9A-F]+/[0-9A-F]+)\), "
    r"checked by pg_verifybackup(?P<new>; new stream (?P<stream>\S+) \((?P<why>[a-z ]+)\))?\n"
)


@pytest.fixture(scope="module")
def cluster() -> Iterator[HostServer]:
    """A PostgreSQL 15 cluster with ~40 MB of data (a base backup takes a moment)."""
    with host_cluster("basebackup") as host:
        sql(
            host,
            "CREATE TABLE filler AS SELECT repeat('x', 900) AS t FROM generate_series(1, 40000)",
        )
        yield host


@pytest.fixture
def archiving(controller: Controller, cluster: HostServer) -> Controller:
    return archive(controller, cluster)


def pitr_dir(controller: Controller) -> Path:
    return controller.data_dir("host") / "pitr"


def listed(controller: Controller) -> dict[str, object]:
    run = controller("list", "host", "--pitr", "--json")
    assert run.returncode == 0, run
    [entry] = json.loads(run.stdout)["pitr"]
    return entry  # type: ignore[no-any-return]


def test_a_base_backup_is_committed_with_the_facts_of_its_backup_label(
    archiving: Controller, cluster: HostServer
) -> None:
    run = archiving("basebackup", "host")

    assert run.returncode == 0, run
    said = LINE.fullmatch(run.stdout)
    assert said is not None, run
    assert said["why"] == "first"
    base = pitr_dir(archiving) / "streams" / said["stream"] / "base"
    facts = json.loads((base / f"{said['name']}.json").read_text())
    label = (base / said["name"] / "backup_label").read_text()
    assert f"START WAL LOCATION: {facts['start_lsn']} " in label
    assert "START TIMELINE: 1\n" in label
    assert (facts["start_lsn"], facts["end_lsn"]) == (said["start"], said["end"])
    assert facts["server_major"] == 15
    manifest = json.loads((base / said["name"] / "backup_manifest").read_text())
    assert facts["manifest_sha256"] == manifest["Manifest-Checksum"]
    assert manifest["WAL-Ranges"][-1]["End-LSN"] == facts["end_lsn"]
    stream = json.loads((base.parent / "STREAM.json").read_text())
    system = sql(cluster, "SELECT system_identifier FROM pg_control_system()")
    assert stream["system_identifier"] == system.strip()
    assert stream["slot"] == "pg_backup_manager_host"
    verified = subprocess.run(
        [str(PG_BIN / "pg_verifybackup"), "--quiet", str(base / said["name"])],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert verified.returncode == 0, verified.stderr


def test_list_pitr_shows_the_base_backup_in_text_and_json(archiving: Controller) -> None:
    said = LINE.fullmatch(archiving("basebackup", "host").stdout)
    assert said is not None

    text = archiving("list", "host", "--pitr")
    document = listed(archiving)

    assert text.returncode == 0, text
    assert f"host: stream {said['stream']} (first; system " in text.stdout
    assert f"  base {said['name']}  finished " in text.stdout
    [stream] = document["streams"]  # type: ignore[misc]
    assert stream["name"] == said["stream"]
    assert [b["name"] for b in stream["base_backups"]] == [said["name"]]


def test_a_second_base_backup_goes_into_the_same_stream(archiving: Controller) -> None:
    first = LINE.fullmatch(archiving("basebackup", "host").stdout)
    time.sleep(1)

    second = LINE.fullmatch(archiving("basebackup", "host").stdout)

    assert first is not None and second is not None
    assert second["new"] is None
    [stream] = listed(archiving)["streams"]  # type: ignore[misc]
    assert [b["name"] for b in stream["base_backups"]] == [second["name"], first["name"]]


def test_another_server_on_the_same_port_begins_a_new_stream(
    archiving: Controller, cluster: HostServer, tmp_path: Path
) -> None:
    old = LINE.fullmatch(archiving("basebackup", "host").stdout)
    assert old is not None
    cluster.stop()
    other = new_cluster(
        Path(temporary_root()) / f"pitr-other-{os.getpid()}" / "data", port=cluster.port
    )
    other.start()
    try:
        time.sleep(1)
        new = LINE.fullmatch(archiving("basebackup", "host").stdout)
    finally:
        other.stop()
        shutil.rmtree(other.data.parent, ignore_errors=True)
        cluster.start()

    assert new is not None and new["why"] == "new server"
    streams = listed(archiving)["streams"]
    assert [s["name"] for s in streams] == [new["stream"], old["stream"]]  # type: ignore[attr-defined]
    assert [b["name"] for b in streams[1]["base_backups"]] == [old["name"]]  # type: ignore[index]


def test_a_service_without_wal_archive_is_exit_2_naming_the_variable(
    archiving: Controller,
) -> None:
    archiving.env["HOST_WAL_ARCHIVE"] = "false"

    run = archiving("basebackup", "host")

    assert_one_line_error(run, 2)
    assert "HOST_WAL_ARCHIVE=true" in run.stderr
    assert not pitr_dir(archiving).exists()


def test_a_controller_killed_during_pg_basebackup_leaves_nothing_listed(
    archiving: Controller,
) -> None:
    process = spawn_in_group(archiving, "basebackup", "host")
    staged = _staging_written(archiving, process)
    os.killpg(process.pid, signal.SIGKILL)
    process.communicate(timeout=30)
    assert staged, "pg_basebackup had not begun writing"
    assert list(pitr_dir(archiving).glob(".*.partial"))  # left by the killed run

    assert listed(archiving)["streams"] == []
    run = archiving("basebackup", "host")

    assert run.returncode == 0, run
    assert not list(pitr_dir(archiving).glob(".*.partial"))
    [stream] = listed(archiving)["streams"]  # type: ignore[misc]
    assert len(stream["base_backups"]) == 1


def test_a_controller_stopped_by_sigterm_during_pg_basebackup_keeps_nothing(
    archiving: Controller,
) -> None:
    process = spawn_in_group(archiving, "basebackup", "host")
    assert _staging_written(archiving, process), "pg_basebackup had not begun writing"

    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)

    assert process.returncode == 1, err
    assert "stopped by" in err
    assert sorted(p.name for p in pitr_dir(archiving).iterdir()) == [".lock"]
    assert listed(archiving)["streams"] == []


def _staging_written(controller: Controller, process: subprocess.Popen[str]) -> bool:
    """Wait until pg_basebackup has written into a staging directory; return whether it did."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        if [p for p in pitr_dir(controller).glob(".*.partial") if any(p.iterdir())]:
            return True
        time.sleep(0.01)
    return False


def test_a_full_disk_is_one_line_and_leaves_nothing(archiving: Controller) -> None:
    data = archiving.workdir / "backup-data" / "data"
    data.mkdir(parents=True)

    with tiny_tmpfs(data, "2m"):
        run = archiving("basebackup", "host")
        left = sorted(p.name for p in pitr_dir(archiving).iterdir())

    assert_one_line_error(run, 1)
    assert "no space left on the device of" in run.stderr
    assert left == [".lock"]


def test_a_corrupted_base_backup_fails_pg_verifybackup(
    archiving: Controller, tmp_path: Path
) -> None:
    said = LINE.fullmatch(archiving("basebackup", "host").stdout)
    assert said is not None
    base = pitr_dir(archiving) / "streams" / said["stream"] / "base" / said["name"]
    copy = tmp_path / "copy"
    shutil.copytree(base, copy)
    verifier = PgVerifyBackup(binaries=PgBinaries(root=PG_BIN_ROOT), timeout=300)
    verifier.verify(copy, 15)  # the copy is sound
    with (copy / "global" / "pg_control").open("r+b") as control:
        control.seek(100)
        control.write(b"\xff\xff\xff\xff")

    with pytest.raises(IntegrityError, match="base backup failed its check: pg_verifybackup"):
        verifier.verify(copy, 15)


def test_a_server_with_a_tablespace_is_refused_in_one_line_and_nothing_is_written(
    archiving: Controller, cluster: HostServer
) -> None:
    place = cluster.data.parent / "tablespace"
    place.mkdir()
    shutil.chown(place, "postgres", "postgres")
    sql(cluster, f"CREATE TABLESPACE elsewhere LOCATION '{place}'")
    try:
        run = archiving("basebackup", "host")
        listing = listed(archiving)
    finally:
        sql(cluster, "DROP TABLESPACE elsewhere")

    assert_one_line_error(run, 1)
    assert "has tablespaces of its own (elsewhere)" in run.stderr
    assert [s["base_backups"] for s in listing["streams"]] in ([], [[]])  # type: ignore[attr-defined]
    assert list(place.iterdir()) == []  # the server's own directory went with the DROP
