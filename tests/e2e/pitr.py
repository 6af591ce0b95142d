"""What the end-to-end test of point-in-time recovery drives beside the e2e stack.

``ArchivingController``: a second container of the controller image, apart from the
stack's controller (whose tests would fight a receiver), running ``controller start``
with WAL archiving on for pg15, pg17 and pg18, its backups on a volume of its own and
a host directory mounted at /restore for what ``recover`` writes. ``Writer``: one
host ``psql`` inserting a row every 100 ms into a server, recording, for each row
acknowledged, its id, the server's ``clock_timestamp()`` and the moment the answer
came back. Passwords go only by environment (``-e NAME``), never a command line.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from ..integration.process import CONTROLLER_TIMEOUT_S, Run
from ..integration.servers import PG_BIN, PgServer, run_psql
from .stack import BACKUP_ROOT, CONTROLLER_IMAGE, E2E_SERVERS, assert_no_password

ARCHIVING_CONTAINER = "pg-backup-manager-e2e-pitr"
ARCHIVING_VOLUME = "pg-backup-manager-e2e-pitr-backup"
RESTORE_IN_CONTAINER = "/restore"
TABLE = "pitr_e2e"
WRITE_EVERY_S = 0.1


def docker(
    *args: str, env: Mapping[str, str] | None = None, check: bool = True, timeout: float = 300.0
) -> subprocess.CompletedProcess[str]:
    """Runs ``docker args`` (``env`` added to this process's environment); its output
    must hold no password. AssertionError with the output when ``check`` and it fails."""
    result = subprocess.run(
        ["docker", *args],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert_no_password(result.stdout + result.stderr, f"docker {' '.join(args)}")
    if check and result.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} exited {result.returncode}: {result.stderr}")
    return result


def container_logs(name: str) -> str:
    result = docker("logs", name, check=False)
    return result.stdout + result.stderr


def service_env(schedule: str) -> dict[str, str]:
    """The archiving controller's environment: the stack's three servers, WAL archiving on,
    production paths (its own volume), no dump due during the test."""
    env = {
        "DATABASE_LIST": ",".join(E2E_SERVERS),
        "MODE": "production",
        "TZ": "Europe/Berlin",
        "BACKUP_SCHEDULE": schedule,
    }
    for service, (server, _) in E2E_SERVERS.items():
        prefix = service.upper()
        env |= {
            f"{prefix}_POSTGRES_HOST": server.host,
            f"{prefix}_POSTGRES_PORT": str(server.port),
            f"{prefix}_POSTGRES_PASSWORD": server.password,
            f"{prefix}_POSTGRES_DB": "appdb",
            f"{prefix}_WAL_ARCHIVE": "true",
        }
    return env


@attrs.define
class ArchivingController:
    """``controller start`` of the image with WAL archiving on for the stack's servers."""

    restore_dir: Path  # on this host; /restore in the containers

    def start(self, schedule: str) -> None:
        self.remove()
        env = service_env(schedule)
        docker(
            *f"run -d --name {ARCHIVING_CONTAINER} --network host".split(),
            *("-v", f"{ARCHIVING_VOLUME}:{BACKUP_ROOT}"),
            *("-v", f"{self.restore_dir}:{RESTORE_IN_CONTAINER}"),
            *(option for name in env for option in ("-e", name)),
            CONTROLLER_IMAGE,
            env=env,
        )

    def remove(self) -> None:
        docker("rm", "-f", ARCHIVING_CONTAINER, check=False)
        docker("volume", "rm", "-f", ARCHIVING_VOLUME, check=False)

    def logs(self) -> str:
        return container_logs(ARCHIVING_CONTAINER)

    def controller(self, *args: str) -> Run:
        """Runs ``/controller args`` in the container (a plain ``docker exec``)."""
        completed = docker(
            "exec",
            ARCHIVING_CONTAINER,
            "/controller",
            *args,
            check=False,
            timeout=CONTROLLER_TIMEOUT_S,
        )
        run = Run(tuple(args), completed.returncode, completed.stdout, completed.stderr)
        print(run)
        assert "Traceback" not in run.output, run
        return run

    def listed(self, service: str) -> dict[str, Any]:
        run = self.controller("list", service, "--pitr", "--json")
        assert run.returncode == 0, run
        [entry] = json.loads(run.stdout)["pitr"]
        return entry  # type: ignore[no-any-return]

    def wait_for_window(self, service: str, timeout: float = 240.0) -> dict[str, Any]:
        """Returns ``service``'s listing once it has a window (a base backup and its WAL)."""
        deadline = time.monotonic() + timeout
        while not (entry := self.listed(service))["windows"]:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"no window of {service} after {timeout:.0f} s: {json.dumps(entry)}\n"
                    f"{self.logs()[-3000:]}"
                )
            time.sleep(2.0)
        return entry


@attrs.frozen
class Row:
    id: int
    at: float  # the server's clock_timestamp() of the insert, seconds since the epoch
    acked: float  # when psql printed it back, after the commit (time.time())


@attrs.define
class Writer:
    """Inserts row 1, 2, ... into ``TABLE`` every ``WRITE_EVERY_S`` with one host psql
    (autocommit: each insert its own transaction), until stopped or the server goes."""

    server: PgServer
    rows: list[Row] = attrs.Factory(list)
    _stop: threading.Event = attrs.Factory(threading.Event)
    _thread: threading.Thread | None = None
    _psql: subprocess.Popen[str] | None = None

    def start(self) -> None:
        run_psql(
            self.server,
            f"DROP TABLE IF EXISTS {TABLE}; CREATE TABLE {TABLE} (id int, at timestamptz)",
        )
        self._psql = subprocess.Popen(
            [
                str(PG_BIN / "psql"),
                *("-XqAt", "-v", "ON_ERROR_STOP=1", "-U", "postgres", "-d", "appdb"),
                *("-h", self.server.host, "-p", str(self.server.port)),
            ],
            env={"PATH": "/usr/bin:/bin", "PGPASSWORD": self.server.password, "PGTZ": "UTC"},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            bufsize=1,
        )
        self._thread = threading.Thread(target=self._write, daemon=True)
        self._thread.start()

    def _write(self) -> None:
        assert self._psql is not None and self._psql.stdin and self._psql.stdout
        n = 0
        while not self._stop.is_set():
            n += 1
            try:
                self._psql.stdin.write(
                    f"INSERT INTO {TABLE} VALUES ({n}, clock_timestamp()) "
                    "RETURNING extract(epoch FROM at);\n"
                )
                self._psql.stdin.flush()
            except OSError:  # psql is gone with its server
                return
            answer = self._psql.stdout.readline()
            acked = time.time()
            if not answer:
                return
            self.rows.append(Row(id=n, at=float(answer), acked=acked))
            self._stop.wait(WRITE_EVERY_S)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        if self._psql is not None:
            self._psql.kill()
            self._psql.communicate(timeout=30)
