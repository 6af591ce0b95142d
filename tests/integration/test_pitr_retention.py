"""PITR retention through ``controller prune`` against a throwaway PostgreSQL 15 cluster
of this host: real base backups, aged by renaming them (their names and facts carry
their time), the WAL each one streamed planted in the stream as the receiver leaves it."""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from pg_backup_manager.domain.pitr.naming import utc_name
from pg_backup_manager.domain.pitr.wal_names import lsn_of, segment_of

from .pitr_cluster import archive, host_cluster
from .process import Controller, assert_one_line_error
from .regression_db import HostServer

PG_BIN_ROOT = Path("/usr/lib/postgresql")
SEGMENT = 16 * 1024 * 1024


@pytest.fixture(scope="module")
def cluster() -> Iterator[HostServer]:
    with host_cluster("retention") as host:
        yield host


@pytest.fixture
def archiving(controller: Controller, cluster: HostServer) -> Controller:
    return archive(controller, cluster)


def stream_dir(controller: Controller) -> Path:
    (stream,) = (controller.data_dir("host") / "pitr" / "streams").iterdir()
    return stream


def three_base_backups(controller: Controller) -> list[str]:
    """Take three base backups; plant the WAL each streamed in ``wal/`` with its
    checksum, as the receiver and its sealing leave it; return their names, oldest first."""
    for _ in range(3):
        run = controller("basebackup", "host")
        assert run.returncode == 0, run
        time.sleep(1)
    stream = stream_dir(controller)
    names = sorted(p.name for p in (stream / "base").iterdir() if p.is_dir())
    for name in names:
        for segment in (stream / "base" / name / "pg_wal").iterdir():
            if segment.is_file() and len(segment.name) == 24:
                shutil.copy2(segment, stream / "wal" / segment.name)
                digest = hashlib.sha256(segment.read_bytes()).hexdigest()
                (stream / "wal" / f"{segment.name}.sha256").write_text(
                    f"{digest}  {segment.name}\n"
                )
    return names


def aged(controller: Controller, name: str, days: float) -> str:
    """Move base backup ``name`` ``days`` back in time (its name, its facts); return its
    new name."""
    base = stream_dir(controller) / "base"
    facts = json.loads((base / f"{name}.json").read_text())
    back = timedelta(days=days)
    started = datetime.fromisoformat(facts["started_at"].replace("Z", "+00:00")) - back
    finished = datetime.fromisoformat(facts["finished_at"].replace("Z", "+00:00")) - back
    new = utc_name(started)
    facts.update(
        name=new,
        started_at=started.isoformat().replace("+00:00", "Z"),
        finished_at=finished.isoformat().replace("+00:00", "Z"),
    )
    (base / f"{new}.json").write_text(json.dumps(facts))
    (base / f"{name}.json").unlink()
    (base / name).rename(base / new)
    return new


def start_segment(controller: Controller, name: str) -> int:
    facts = json.loads((stream_dir(controller) / "base" / f"{name}.json").read_text())
    return segment_of(lsn_of(facts["start_lsn"]), SEGMENT)


def wal(controller: Controller) -> list[str]:
    return sorted(p.name for p in (stream_dir(controller) / "wal").iterdir())


def tree(directory: Path) -> list[str]:
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*"))


def listed_bases(controller: Controller) -> list[str]:
    run = controller("list", "host", "--pitr", "--json")
    assert run.returncode == 0, run
    [entry] = json.loads(run.stdout)["pitr"]
    [stream] = entry["streams"]
    return [b["name"] for b in stream["base_backups"]]


def test_prune_dry_run_shows_the_plan_and_deletes_nothing_then_prune_keeps_the_window(
    archiving: Controller,
) -> None:
    first, second, newest = three_base_backups(archiving)
    oldest = aged(archiving, first, 10)
    window_start = aged(archiving, second, 9)
    before = tree(archiving.data_dir("host"))

    dry = archiving("prune", "host", "--dry-run")

    assert dry.returncode == 0, dry
    assert tree(archiving.data_dir("host")) == before
    assert f"host:   would delete base {oldest} (10.0 days old, past PITR_RETENTION_DAYS)" in (
        dry.stdout
    )
    assert f"host:   keep   base {window_start} (9.0 days old, recovers to" in dry.stdout
    assert f"host:   keep   base {newest} (0.0 days old, the newest base backup)" in dry.stdout
    assert "would delete WAL 0000000100000000000000" in dry.stdout
    assert "host: PITR: 1 of 3 base backups, " in dry.stdout

    run = archiving("prune", "host")

    assert run.returncode == 0, run
    assert listed_bases(archiving) == [newest, window_start]
    assert not (stream_dir(archiving) / "base" / oldest).exists()
    kept_from = start_segment(archiving, window_start)
    left = wal(archiving)
    assert all(int(name[16:24], 16) >= kept_from for name in left)
    assert {name[:24] for name in left} == {name for name in left if len(name) == 24}
    verify = archiving("verify", "host", "--pitr")
    assert verify.returncode == 0, verify


def test_prune_keeps_the_newest_base_backup_however_old_and_it_still_recovers(
    archiving: Controller,
) -> None:
    names = three_base_backups(archiving)
    newest = [aged(archiving, name, days) for name, days in zip(names, (30, 20, 10), strict=True)][
        -1
    ]

    run = archiving("prune", "host")

    assert run.returncode == 0, run
    assert "host: PITR: 2 of 3 base backups, " in run.stdout
    assert listed_bases(archiving) == [newest]
    kept_from = start_segment(archiving, newest)
    assert all(int(name[16:24], 16) >= kept_from for name in wal(archiving))
    again = archiving("prune", "host")
    assert "host: PITR: 0 of 1 base backups, 0 of " in again.stdout
    verify = archiving("verify", "host", "--pitr")
    assert verify.returncode == 0, verify


@pytest.mark.parametrize("value", ["0", "a week"])
def test_a_bad_pitr_retention_days_is_exit_2_naming_it(archiving: Controller, value: str) -> None:
    archiving.env["PITR_RETENTION_DAYS"] = value

    run = archiving("prune", "host", "--dry-run")

    assert_one_line_error(run, 2)
    assert "PITR_RETENTION_DAYS must be a whole number from 1 to 10000" in run.stderr
