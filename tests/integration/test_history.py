"""The run history under the real controller: a full disk cutting a record short,
operations writing at once at the cap, and a history that something else mangled."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pg_backup_manager.adapters.monitoring.run_history import HISTORY_NAME

from .disks import tiny_tmpfs
from .process import Controller
from .receiver import free_port, scrape_metrics
from .running import spawn, stop
from .servers import PG_NEW, PgServers, psql

pytestmark = pytest.mark.integration

RECORD = {
    "operation": "dump",
    "started_at": "2024-07-04T08:00:00Z",
    "finished_at": "2024-07-04T08:01:00Z",
    "outcome": "success",
    "backup": "file_daily_2024-07-04T08:00:00Z.dump",
    "runs_success": 3,
    "runs_failure": 1,
}
PAGE = 4096  # tmpfs allocates whole pages: a write fills the last one, then finds no room


def line(**fields: object) -> bytes:
    return (json.dumps({**RECORD, **fields}) + "\n").encode()


def records(directory: Path) -> list[dict[str, object]]:
    return [json.loads(text) for text in (directory / HISTORY_NAME).read_bytes().splitlines()]


def test_a_record_cut_short_by_a_full_disk_is_undone_and_the_next_one_is_whole(
    controller: Controller,
) -> None:
    controller.add_database("a", PG_NEW)
    directory = controller.data_dir("a")
    directory.mkdir(parents=True)
    with tiny_tmpfs(directory, "64k"):
        # Two records that leave room for 60 bytes in their page, and no other page free.
        first = line()
        padding = PAGE - 60 - len(first) - len(line(error=""))
        history = first + line(error="x" * padding)
        (directory / HISTORY_NAME).write_bytes(history)
        with (directory / "filler").open("wb", buffering=0) as filler, pytest.raises(OSError):
            while True:
                filler.write(b"f" * PAGE)

        full = controller("prune", "a")
        kept = (directory / HISTORY_NAME).read_bytes()
        (directory / "filler").unlink()
        freed = controller("prune", "a")
        status = controller("status", "a", "--json")
        history_after = records(directory)

    assert full.returncode == 0, full
    assert "run history could not be written" in full.stderr, full
    assert kept == history
    assert freed.returncode == 0, freed
    assert [r["operation"] for r in history_after] == ["dump", "dump", "prune"]
    [found] = json.loads(status.stdout)["databases"]
    assert found["history_unreadable_lines"] == 0


def test_at_the_cap_on_a_nearly_full_disk_the_record_survives_a_trim_that_does_not_fit(
    pg: PgServers, controller: Controller
) -> None:
    controller.add_database("a", pg.a, password="not-the-password-7c2d")
    directory = controller.data_dir("a")
    directory.mkdir(parents=True)
    with tiny_tmpfs(directory, "1m"):
        # 1100 records (about 315 KB) and 84 KiB free: room for a record, not for a copy.
        (directory / HISTORY_NAME).write_bytes(line(error="x" * 100) * 1100)
        disk = os.statvfs(directory)
        (directory / "filler").write_bytes(b"f" * (disk.f_bavail * disk.f_frsize - 84 * 1024))

        failed = controller("dump", "a")
        status = controller("status", "a")
        over_the_cap = records(directory)
        (directory / "filler").unlink()
        pruned = controller("prune", "a")
        trimmed = records(directory)

    assert failed.returncode == 1, failed
    assert "could not be written" not in failed.stderr, failed
    assert "run history could not be trimmed (No space left on device)" in failed.stderr
    assert "last failure:     never" not in status.stdout, status
    assert len(over_the_cap) == 1101 and over_the_cap[-1]["outcome"] == "failure"
    assert pruned.returncode == 0, pruned
    assert len(trimmed) == 1000
    assert [r["operation"] for r in trimmed[-2:]] == ["dump", "prune"]


def test_a_fifo_in_place_of_the_history_hangs_no_status_and_takes_no_record(
    controller: Controller,
) -> None:
    controller.add_database("a", PG_NEW)
    directory = controller.data_dir("a")
    directory.mkdir(parents=True)
    os.mkfifo(directory / HISTORY_NAME)

    text = controller("status", "a")
    document = controller("status", "a", "--json")
    pruned = controller("prune", "a")

    assert text.returncode == 0 and document.returncode == 0, (text, document)
    assert "run history could not be read (not a regular file)" in text.stderr, text
    assert json.loads(document.stdout)["databases"][0]["history_unreadable_lines"] == 0
    assert pruned.returncode == 0, pruned
    assert "history.jsonl is not a regular file" in pruned.stderr, pruned


def test_operations_writing_at_once_at_the_cap_each_leave_their_record(
    controller: Controller,
) -> None:
    controller.add_database("a", PG_NEW)
    controller.env["LOCK_TIMEOUT"] = "120"
    directory = controller.data_dir("a")
    directory.mkdir(parents=True)
    # Full up to the trim: the first of them rewrites the file under the others.
    (directory / HISTORY_NAME).write_bytes(line() * 1100)

    verifies = [spawn(controller, "verify", "a") for _ in range(8)]
    ended = [process.communicate(timeout=180) for process in verifies]

    assert [process.returncode for process in verifies] == [0] * 8, ended
    history = records(directory)
    assert [r["operation"] for r in history].count("verify") == 8
    assert len(history) == 1000 + 7  # trimmed to 1000 by the first, then appended to


def test_a_mangled_history_fails_no_dump_status_list_or_scrape(
    pg: PgServers, controller: Controller
) -> None:
    psql(pg.a, "CREATE TABLE t AS SELECT 1 AS id")
    controller.add_database("a", pg.a)
    directory = controller.data_dir("a")
    directory.mkdir(parents=True)
    (directory / HISTORY_NAME).write_bytes(
        line()
        + b"[1, 2]\n"
        + b'{"operation": "dump", "error": "\xff\xfe"}\n'
        + line(size_bytes="big", error=5, not_offsite="x", sha256=[1])
        + line(outcome="failure", runs_success=None, runs_failure=2)
    )
    metrics_port = free_port()
    controller.env["METRICS_PORT"] = str(metrics_port)

    dump = controller("dump", "a")
    status = controller("status", "a", "--json")
    text = controller("status", "a")
    listed = controller("list", "a")
    scheduler = spawn(controller, "start")
    try:
        scraped = scrape_metrics(metrics_port)
    finally:
        stop(scheduler)

    assert dump.returncode == 0, dump
    assert len(controller.backups("a")) == 1
    assert status.returncode == 0 and text.returncode == 0 and listed.returncode == 0
    [found] = json.loads(status.stdout)["databases"]
    assert found["history_unreadable_lines"] == 2 and found["last_success_at"] is not None
    assert "history:          2 unreadable line(s) skipped" in text.stdout
    assert 'pg_backup_runs_total{database="a",outcome="success"} 4.0' in scraped
    assert 'pg_backup_runs_total{database="a",outcome="failure"} 2.0' in scraped
    assert 'pg_backup_healthy{database="a"} 1.0' in scraped
