"""A host PostgreSQL 15 cluster with WAL archiving on for one service, a running
``controller start`` streaming it, and what the PITR tests ask of them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import attrs

from .process import Controller
from .regression_db import HostServer, as_postgres, free_port, new_cluster, temporary_root
from .running import spawn, stop
from .servers import PG_BIN

SERVICE = "host"
PG_BIN_ROOT = Path("/usr/lib/postgresql")
WAIT_S = 90.0


def cluster_in(root: Path, **settings: str) -> HostServer:
    """initdb and start a cluster in ``root`` on a free port, with ``settings``."""
    host = new_cluster(root / "data", port=free_port())
    if settings:
        with (host.data / "postgresql.auto.conf").open("a") as conf:
            conf.writelines(f"{name} = '{value}'\n" for name, value in settings.items())
    host.start()
    return host


@contextmanager
def host_cluster(name: str, **settings: str) -> Iterator[HostServer]:
    """A started cluster under a temporary root named ``name``, with ``settings``; stopped
    and removed at the end."""
    root = Path(temporary_root()) / f"pitr-{name}-{os.getpid()}-{time.monotonic_ns()}"
    host = cluster_in(root, **settings)
    try:
        yield host
    finally:
        try:
            host.stop()
        finally:
            shutil.rmtree(root, ignore_errors=True)


def sql(host: HostServer, statement: str, *, db: str = "postgres") -> str:
    return as_postgres(
        str(PG_BIN / "psql"),
        "-h",
        str(host.data),
        "-p",
        str(host.port),
        "-d",
        db,
        "-XAtc",
        statement,
    ).strip()


def archive(controller: Controller, host: HostServer) -> Controller:
    """Point the service ``host`` of ``controller`` at ``host``, WAL archiving on."""
    controller.add_database(SERVICE, host.server, db="postgres")
    controller.env.update(HOST_WAL_ARCHIVE="true", PG_BIN_ROOT=str(PG_BIN_ROOT))
    return controller


@attrs.define
class Archiving:
    """A ``controller start`` keeping ``host``'s WAL, and the rows written meanwhile."""

    controller: Controller
    host: HostServer
    process: subprocess.Popen[str] | None = None
    log: str = ""

    def start(self) -> None:
        self.process = spawn(self.controller, "start")

    def stop(self) -> str:
        """Stop ``controller start`` as ``docker stop`` would; return what it logged."""
        assert self.process is not None
        code, out, err = stop(self.process)
        self.process = None
        self.log += out + err
        assert code == 0, err
        return err

    def ended(self) -> None:
        """Stop ``controller start`` if it runs, whatever it says (the test's end)."""
        if self.process is not None:
            process, self.process = self.process, None
            process.terminate()
            process.communicate(timeout=60)

    def write(self, rows: int = 1) -> datetime:
        """Insert ``rows`` rows, each its own transaction; return the last one's time."""
        sql(self.host, "CREATE TABLE IF NOT EXISTS r (id serial, at timestamptz)")
        said = ""
        for _ in range(rows):
            said = sql(self.host, "INSERT INTO r (at) VALUES (clock_timestamp()) RETURNING at")
        return datetime.fromisoformat(said.splitlines()[0])

    def switch(self) -> str:
        """Close the current segment; return the name of the one closed."""
        return sql(self.host, "SELECT pg_walfile_name(pg_switch_wal())")

    def listed(self) -> dict[str, Any]:
        run = self.controller("list", SERVICE, "--pitr", "--json")
        assert run.returncode == 0, run
        [entry] = json.loads(run.stdout)["pitr"]
        return entry  # type: ignore[no-any-return]

    def wait_for(self, what: str, condition: Any, timeout: float = WAIT_S) -> dict[str, Any]:
        """Return the listing once ``condition(listing)`` holds."""
        deadline = time.monotonic() + timeout
        while True:
            entry = self.listed()
            if condition(entry):
                return entry
            if time.monotonic() > deadline:
                raise AssertionError(f"no {what} after {timeout:.0f} s: {json.dumps(entry)}")
            time.sleep(1.0)

    def received(self, segment: str) -> dict[str, Any]:
        """Wait until the newest stream has received ``segment`` complete."""
        return self.wait_for(
            f"segment {segment} received",
            lambda entry: (
                bool(entry["streams"])
                and (entry["streams"][0]["wal"]["last"] or "").removesuffix(".partial") > segment
            ),
        )

    def window_reaching(self, at: datetime) -> dict[str, Any]:
        """Wait until the newest window ends at ``at`` or later; return it."""
        moment = at.strftime("%Y-%m-%dT%H:%M:%SZ")
        entry = self.wait_for(
            f"window reaching {moment}",
            lambda entry: bool(entry["windows"]) and entry["windows"][-1]["end"] >= moment,
        )
        return entry["windows"][-1]  # type: ignore[no-any-return]

    def history(self) -> list[dict[str, Any]]:
        path = self.controller.data_dir(SERVICE) / "history.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def wal_dir(self, stream: str) -> Path:
        return self.controller.data_dir(SERVICE) / "pitr" / "streams" / stream / "wal"


@contextmanager
def archiving(controller: Controller, root: Path, **settings: str) -> Iterator[Archiving]:
    """A new cluster in ``root`` with a ``controller start`` archiving it, both stopped and
    removed at the end."""
    host = cluster_in(root, **settings)
    running = Archiving(controller=archive(controller, host), host=host)
    try:
        yield running
    finally:
        running.ended()
        subprocess.run(
            [
                "runuser",
                "-u",
                "postgres",
                "--",
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(host.data),
                "-m",
                "immediate",
                "stop",
            ],
            capture_output=True,
            check=False,
            timeout=60,
        )
        shutil.rmtree(root, ignore_errors=True)


def receiver_pid(host: HostServer) -> int:
    """Return the pid of the pg_receivewal streaming from ``host``."""
    said = subprocess.run(
        ["pgrep", "-f", f"pg_receivewal .*port='{host.port}'"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    assert len(said) == 1, f"pg_receivewal processes for port {host.port}: {said}"
    return int(said[0])
