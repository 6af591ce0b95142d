"""``controller start`` and stop signals, with the controller as a real process.

The production paths are the README's (/var/lib/postgresql/backup/...): the
scheduler runs in a private mount namespace where a directory of the test is
bind-mounted on /var/lib/postgresql, so it writes exactly where it would in
the container and nothing of this machine is touched.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pg_backup_manager.adapters.monitoring.run_history import HISTORY_NAME

from .data import load_pagila
from .process import BACKUP_NAME_PATTERN, Controller
from .running import dumps_connected, spawn, stop, table_locked, wait_until
from .servers import PgServers

pytestmark = pytest.mark.integration


def backup_name(tier: str, age: timedelta) -> str:
    return f"file_{tier}_{(datetime.now(UTC) - age):%Y-%m-%dT%H:%M:%SZ}.dump"


def test_sigterm_during_a_dump_stops_pg_dump_and_leaves_no_file(
    pg: PgServers, controller: Controller
) -> None:
    load_pagila(pg.a)
    controller.add_database("a", pg.a)

    with table_locked(pg.a, "public.actor"):
        dump = spawn(controller, "dump", "a")
        wait_until(lambda: dumps_connected(pg.a) == 1, 30, "pg_dump to wait on the lock")
        wait_until(
            lambda: controller.data_dir("a").is_dir() and any(controller.data_dir("a").iterdir()),
            30,
            "the temporary file",
        )
        code, _, err = stop(dump)

    assert code == 1
    assert "SIGTERM" in err
    assert controller.backups("a") == []
    wait_until(lambda: dumps_connected(pg.a) == 0, 30, "pg_dump to go away")
    assert controller("dump", "a").returncode == 0


def test_start_outside_production_stays_up_without_dumping_and_stops_on_sigterm(
    pg: PgServers, controller: Controller
) -> None:
    controller.add_database("a", pg.a)

    process = spawn(controller, "start")
    time.sleep(2.0)
    assert process.poll() is None
    code, _, err = stop(process)

    assert code == 0
    assert "scheduled dumps are off" in err
    assert controller.backups("a") == []


def test_start_in_production_dumps_on_schedule_shares_and_applies_retention(
    pg: PgServers, controller: Controller, tmp_path: Path
) -> None:
    load_pagila(pg.a)
    root = tmp_path / "var-lib-postgresql"
    data = root / "backup" / "data" / "a"
    data.mkdir(parents=True)
    expired = backup_name("daily", timedelta(days=8))
    recent = backup_name("weekly", timedelta(days=3))
    for name in (expired, recent, "notes.txt"):
        (data / name).write_bytes(b"planted")
    controller.add_database("a", pg.a)
    controller.env.update(
        MODE="production",
        SERVER="production",
        COPING_TO_SHARED="true",
        BACKUP_SCHEDULE="* * * * *",
    )

    process = spawn(controller, "start", namespace_root=root)
    try:
        wait_until(
            lambda: (
                len(list(data.glob("file_*.dump"))) == 2
                and expired not in {p.name for p in data.iterdir()}
            ),
            75,
            "a scheduled dump and retention",
        )
        wait_until(lambda: (root / "backup/shared/a/file.dump").is_file(), 10, "the shared copy")
    finally:
        code, _, err = stop(process)

    names = sorted(p.name for p in data.iterdir() if p.name != HISTORY_NAME)
    [new] = [name for name in names if re.fullmatch(BACKUP_NAME_PATTERN, name) and name != recent]
    kept_with_new = new.replace(".dump", ".globals.sql")
    assert code == 0
    assert names == sorted(
        [new, f"{new}.sha256", kept_with_new, f"{kept_with_new}.sha256", recent, "notes.txt"]
    )
    assert (root / "backup/shared/a/file.dump").read_bytes() == (data / new).read_bytes()
    assert f"deleted {expired}" in err
    assert not (tmp_path / "backup-data").exists()
