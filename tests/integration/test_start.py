"""``controller start`` and stop signals, with the controller as a real process.

The production paths are the README's (/var/lib/postgresql/backup/...): the
scheduler runs in a private mount namespace where a directory of the test is
bind-mounted on /var/lib/postgresql, so it writes exactly where it would in
the container and nothing of this machine is touched.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from .support import (
    APP_DB,
    CONTROLLER,
    PG_BIN,
    Controller,
    PgServer,
    PgServers,
    hand_to_postgres,
    load_pagila,
    psql,
)

pytestmark = pytest.mark.integration

STOP_TIMEOUT_S = 15.0


def sha256s(names: list[str]) -> list[str]:
    return [name for name in names if name.endswith(".sha256")]


def backup_name(tier: str, age: timedelta) -> str:
    return f"file_{tier}_{(datetime.now(UTC) - age):%Y-%m-%dT%H:%M:%SZ}.dump"


def wait_for(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}", pytrace=False)
        time.sleep(0.2)


@contextmanager
def table_locked(server: PgServer, table: str) -> Iterator[None]:
    """Holds an exclusive lock on ``table``: a pg_dump of the database waits for it."""
    holder = subprocess.Popen(
        [
            str(PG_BIN / "psql"),
            "-X",
            "-q",
            "-h",
            server.host,
            "-p",
            str(server.port),
            "-U",
            server.user,
            "-d",
            APP_DB,
            "-c",
            f"BEGIN; LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(120);",
        ],
        env={"PATH": "/usr/bin:/bin", "PGPASSWORD": server.password, "PGAPPNAME": "lock-holder"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(1.0)
        yield
    finally:
        # The server would keep the lock until pg_sleep ends: end the session there.
        sessions(
            server,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'lock-holder'",
        )
        holder.wait(30)


def sessions(server: PgServer, query: str) -> str:
    return psql(server, query, db="postgres").strip()


def dumps_connected(server: PgServer) -> int:
    return int(
        sessions(
            server,
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pg-backup-manager'",
        )
    )


def spawn(
    controller: Controller, *args: str, namespace_root: Path | None = None
) -> subprocess.Popen[str]:
    argv = [str(CONTROLLER), *args]
    hand_to_postgres(controller.workdir)
    if namespace_root is not None:
        argv = [
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "--",
            "sh",
            "-c",
            'mount --bind "$0" /var/lib/postgresql && exec "$@"',
            str(namespace_root),
            *argv,
        ]
    return subprocess.Popen(
        argv,
        cwd=controller.workdir,
        env=controller.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def stop(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=STOP_TIMEOUT_S)
    print(
        f"stopped in {time.monotonic() - started:.1f} s\n--- stdout ---\n{out}--- stderr ---\n{err}"
    )
    assert "Traceback" not in out + err
    return process.returncode, out, err


def test_sigterm_during_a_dump_stops_pg_dump_and_leaves_no_file(
    pg: PgServers, controller: Controller
) -> None:
    load_pagila(pg.a)
    controller.add_database("a", pg.a)

    with table_locked(pg.a, "public.actor"):
        dump = spawn(controller, "dump", "a")
        wait_for(lambda: dumps_connected(pg.a) == 1, 30, "pg_dump to wait on the lock")
        wait_for(
            lambda: controller.data_dir("a").is_dir() and any(controller.data_dir("a").iterdir()),
            30,
            "the temporary file",
        )
        code, _, err = stop(dump)

    assert code == 1
    assert "SIGTERM" in err
    assert controller.backups("a") == []
    wait_for(lambda: dumps_connected(pg.a) == 0, 30, "pg_dump to go away")
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
        wait_for(
            lambda: (
                len(list(data.glob("file_*.dump"))) == 2
                and expired not in {p.name for p in data.iterdir()}
            ),
            75,
            "a scheduled dump and retention",
        )
        wait_for(lambda: (root / "backup/shared/a/file.dump").is_file(), 10, "the shared copy")
    finally:
        code, _, err = stop(process)

    names = sorted(p.name for p in data.iterdir())
    [new] = [name for name in names if name not in (recent, "notes.txt", *sha256s(names))]
    assert code == 0
    assert names == sorted([new, f"{new}.sha256", recent, "notes.txt"])
    assert (root / "backup/shared/a/file.dump").read_bytes() == (data / new).read_bytes()
    assert f"deleted {expired}" in err
    assert not (tmp_path / "backup-data").exists()
