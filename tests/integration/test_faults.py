"""Faults during a dump: each must leave no false backup, lose nothing and say why."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from pg_backup_manager.adapters.monitoring.run_history import HISTORY_NAME

from .data import load_pagila
from .disks import tiny_tmpfs
from .process import Controller, assert_one_line_error
from .running import LOCK_HOLDER, dumps_connected, sessions, spawn, stop, table_locked, wait_until
from .servers import PG_NEW, PgServers, psql

pytestmark = pytest.mark.integration


def partial_written(controller: Controller) -> bool:
    directory = controller.data_dir("a")
    return directory.is_dir() and any(p.name.endswith(".partial") for p in directory.iterdir())


@pytest.fixture
def blocked_dump(pg: PgServers, controller: Controller) -> Iterator[subprocess.Popen[str]]:
    """A ``dump a`` whose pg_dump waits on a lock the test holds, its temporary file begun."""
    load_pagila(pg.a)
    controller.add_database("a", pg.a)
    with table_locked(pg.a, "public.actor"):
        dump = spawn(controller, "dump", "a")
        wait_until(lambda: dumps_connected(pg.a) == 1, 30, "pg_dump to wait on the lock")
        wait_until(lambda: partial_written(controller), 30, "the temporary file")
        yield dump
        if dump.poll() is None:
            dump.kill()
        dump.communicate(timeout=60)


def test_a_dump_killed_by_sigkill_leaves_no_backup_and_the_next_one_works(
    pg: PgServers, controller: Controller, blocked_dump: subprocess.Popen[str]
) -> None:
    blocked_dump.send_signal(signal.SIGKILL)
    assert blocked_dump.wait(30) == -signal.SIGKILL
    # Its pg_dump lives on, orphaned; end it and the lock it waits for.
    sessions(
        pg.a,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        f"WHERE application_name IN ('pg-backup-manager', '{LOCK_HOLDER}')",
    )

    listed = controller("list", "a")
    controller.env["LOCK_TIMEOUT"] = "0"  # a dead holder has released the lock
    wait_until(lambda: dumps_connected(pg.a) == 0, 30, "the orphaned pg_dump to go")
    again = controller("dump", "a")

    assert listed.returncode == 0, listed
    assert "no backups" in listed.stdout, listed
    assert again.returncode == 0, again
    [backup] = controller.backups("a")  # the killed dump's temporary file is gone too
    assert backup.startswith("file_")


def test_a_second_dump_of_the_same_database_is_busy_and_exits_4(
    controller: Controller, blocked_dump: subprocess.Popen[str]
) -> None:
    controller.env["LOCK_TIMEOUT"] = "1"

    second = controller("dump", "a")

    assert second.returncode == 4, second
    assert "busy" in second.stderr
    assert len(second.stderr.strip().splitlines()) == 1


def test_the_server_going_away_mid_dump_fails_clearly_and_leaves_no_file(
    pg: PgServers, controller: Controller, blocked_dump: subprocess.Popen[str]
) -> None:
    sessions(
        pg.a,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE application_name = 'pg-backup-manager'",
    )

    out, err = blocked_dump.communicate(timeout=60)

    assert blocked_dump.returncode == 1, (out, err)
    assert err.startswith("error: a: pg_dump of a"), err
    assert "terminat" in err or "closed the connection" in err, err
    assert controller.backups("a") == []


@pytest.fixture
def tiny_disk(controller: Controller) -> Iterator[Path]:
    """A 64 KiB tmpfs as the backup directory of ``a``, owned by postgres."""
    directory = controller.data_dir("a")
    directory.mkdir(parents=True)
    with tiny_tmpfs(directory, "64k"):
        yield directory


OLD = "file_daily_2020-01-01T00:00:00Z.dump"


def test_a_full_disk_fails_the_dump_clearly_and_keeps_older_backups(
    pg: PgServers, controller: Controller, tiny_disk: Path
) -> None:
    load_pagila(pg.a)
    controller.add_database("a", pg.a)
    (tiny_disk / OLD).write_bytes(b"an older backup" * 100)

    run = controller("dump", "a")

    assert_one_line_error(run, 1)
    assert "no space left" in run.stderr.lower(), run
    assert sorted(set(os.listdir(tiny_disk)) - {HISTORY_NAME}) == [OLD]
    assert (tiny_disk / OLD).read_bytes() == b"an older backup" * 100


def test_prune_works_on_a_full_disk(controller: Controller, tiny_disk: Path) -> None:
    controller.add_database("a", PG_NEW)
    newest = "file_daily_2020-01-05T00:00:00Z.dump"
    (tiny_disk / OLD).write_bytes(b"x" * 1000)
    (tiny_disk / newest).write_bytes(b"y" * 1000)
    with pytest.raises(OSError):
        (tiny_disk / "filler").write_bytes(b"z" * 128 * 1024)

    run = controller("prune", "a")

    assert run.returncode == 0, run
    assert sorted(set(os.listdir(tiny_disk)) - {HISTORY_NAME}) == sorted(["filler", newest])


def test_a_server_newer_than_the_client_tools_is_named_with_both_versions(
    pg_servers: PgServers, controller: Controller
) -> None:
    controller.add_database("new", PG_NEW)

    run = controller("dump", "new")

    assert_one_line_error(run, 1)
    assert "server version mismatch" in run.stderr, run
    assert "server version: 17" in run.stderr and "pg_dump version: 15" in run.stderr, run
    assert controller.backups("new") == []


def test_a_stop_during_verify_restore_is_reported_as_a_stop_and_drops_the_scratch_database(
    pg: PgServers, controller: Controller
) -> None:
    psql(
        pg.a,
        "CREATE TABLE big AS SELECT g AS id, md5(g::text) AS payload "
        "FROM generate_series(1, 3000000) g",
    )
    controller.add_database("a", pg.a)
    assert controller("dump", "a").returncode == 0
    [name] = controller.backups("a")
    scratch_sessions = (
        "SELECT count(*) FROM pg_stat_activity WHERE datname LIKE 'appdb\\_verify\\_%' "
        "AND application_name = 'pg-backup-manager'"
    )

    verify = spawn(controller, "verify", "a", name, "--restore")
    # pg_restore may load in several jobs (RESTORE_JOBS), each with its session.
    wait_until(lambda: int(sessions(pg.a, scratch_sessions)) >= 1, 60, "pg_restore to load")
    code, out, err = stop(verify)

    assert code == 1, (out, err)
    assert "stopped by SIGTERM" in err
    assert "FAILED" not in out
    left = sessions(pg.a, "SELECT count(*) FROM pg_database WHERE datname LIKE '%verify%'")
    assert left == "0"
