"""The stack of the end-to-end tests (docker/compose.e2e.yml), driven only through the
docker CLI, as an operator would.

The controller image runs in production mode beside a PostgreSQL 15, a 17
and an 18 server whose data volumes it mounts too (pg18's in the official
image's layout from 18 on: the data directory is ``18/docker`` in the volume).
The servers are reached from this host with psql
(``tests/integration/servers.py``); the controller only with ``docker exec``
and friends (``ContainerStack``).
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath

import attrs

from ..integration.process import BACKUP_NAME_PATTERN, CONTROLLER_TIMEOUT_S, Run
from ..integration.running import wait_until
from ..integration.servers import PgServer, answers_select_1

REPO = Path(__file__).resolve().parents[2]
E2E_COMPOSE_FILE = REPO / "docker" / "compose.e2e.yml"
E2E_PROJECT = "pg-backup-manager-e2e"
CONTROLLER_IMAGE = "pg-backup-manager-e2e:latest"  # the controller's image, as compose tags it
E2E_PG15 = PgServer(service="pg15", port=55441, password="e2e-secret-15")
# pg17 and the controller both read this password from the same Docker secret.
E2E_PG17 = PgServer(
    service="pg17",
    port=55442,
    password=(REPO / "docker" / "e2e" / "pg17-password").read_text(encoding="utf-8").strip(),
)
E2E_PG18 = PgServer(service="pg18", port=55443, password="e2e-secret-18")
# Each server of the stack, by its service name, with its PostgreSQL major version.
E2E_SERVERS: dict[str, tuple[PgServer, int]] = {
    "pg15": (E2E_PG15, 15),
    "pg17": (E2E_PG17, 17),
    "pg18": (E2E_PG18, 18),
}
BACKUP_ROOT = PurePosixPath("/var/lib/postgresql/backup")
DATABASES_ROOT = PurePosixPath("/var/lib/postgresql/databases")
POSTGRES_IDS = "999:999"  # uid:gid of postgres in the controller and the server images
DOCKER_TIMEOUT_S = 900.0


def data_dir_in_container(ident: str) -> PurePosixPath:
    """``ident``'s backup directory in the controller (not PostgreSQL's data directory)."""
    return BACKUP_ROOT / "data" / ident


def pgdata_in_container(ident: str) -> PurePosixPath:
    """PostgreSQL's data directory of service ``ident``, as the controller mounts it.

    pg15's and pg17's volumes are their data directories; pg18's volume is the
    official image's /var/lib/postgresql from 18 on, with the data in 18/docker.
    """
    _, major = E2E_SERVERS[ident]
    volume = DATABASES_ROOT / ident
    return volume / "18" / "docker" if major >= 18 else volume


def shared_file_in_container(ident: str) -> PurePosixPath:
    return BACKUP_ROOT / "shared" / ident / "file.dump"


def is_backup_name(name: str) -> bool:
    return re.fullmatch(BACKUP_NAME_PATTERN, name) is not None


def created(run: Run, ident: str) -> str:
    """The name in the ``<ident>: created <name> (<size>)`` line of a dump's output."""
    found = re.search(rf"^{ident}: created (?P<name>{BACKUP_NAME_PATTERN}) \(", run.stdout, re.M)
    assert found is not None, run
    return found.group("name")


def backup_name(tier: str, age: timedelta) -> str:
    """The name a backup of ``tier`` taken ``age`` ago has."""
    return f"file_{tier}_{datetime.now(UTC) - age:%Y-%m-%dT%H:%M:%SZ}.dump"


def is_partial_name(name: str) -> bool:
    """The hidden temporary name of a backup being written (``.file_....partial``)."""
    return name.startswith(".file_") and name.endswith(".partial")


def docker_timestamp(at: datetime | None = None) -> str:
    """``at`` (default now) as ``docker logs --since`` takes it; the engine runs on this machine."""
    return (at or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@attrs.define
class ContainerStack:
    """The stack of docker/compose.e2e.yml, driven as an operator drives it.

    The controller is reached only through the docker CLI: ``exec`` (its
    ``/controller`` and plain ``ls``/``stat``/``cat``), ``logs``, ``stop``,
    ``start``, ``inspect`` and ``cp``. ``schedule`` is its BACKUP_SCHEDULE (the
    compose file's ``E2E_SCHEDULE``). Every docker output is checked for the
    servers' passwords, which must never show.
    """

    schedule: str
    _controller_id: str | None = None

    def compose(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Runs docker-compose on the e2e project; AssertionError if ``check`` and it fails."""
        result = subprocess.run(
            [*self.compose_argv(), *args],
            env={**os.environ, "E2E_SCHEDULE": self.schedule},
            capture_output=True,
            text=True,
            timeout=DOCKER_TIMEOUT_S,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"docker-compose {' '.join(args)} exited {result.returncode}:\n"
                f"{result.stdout[-3000:]}{result.stderr[-3000:]}"
            )
        return result

    def compose_argv(self) -> list[str]:
        return ["docker-compose", "-f", str(E2E_COMPOSE_FILE), "-p", E2E_PROJECT]

    @property
    def controller_id(self) -> str:
        """The id of the controller's container (the same across ``docker stop``/``start``)."""
        if self._controller_id is None:
            found = self.compose("ps", "-q", "controller").stdout.strip()
            assert found, "the e2e stack has no controller container"
            self._controller_id = found
        return self._controller_id

    def docker(
        self, *args: str, check: bool = True, timeout: float = 120.0
    ) -> subprocess.CompletedProcess[str]:
        """Runs ``docker args``; its output must hold no password."""
        result = subprocess.run(
            ["docker", *args], capture_output=True, text=True, timeout=timeout, check=False
        )
        assert_no_password(result.stdout + result.stderr, f"docker {' '.join(args)}")
        if check and result.returncode != 0:
            raise AssertionError(
                f"docker {' '.join(args)} exited {result.returncode}: "
                f"{result.stdout}{result.stderr}"
            )
        return result

    def controller(
        self, *args: str, env: Mapping[str, str] | None = None, user: str | None = None
    ) -> Run:
        """Runs ``/controller args`` with a plain ``docker exec`` (as root unless ``user``)."""
        options = [f"--env={name}={value}" for name, value in (env or {}).items()]
        if user is not None:
            options.append(f"--user={user}")
        completed = self.docker(
            "exec",
            *options,
            self.controller_id,
            "/controller",
            *args,
            check=False,
            timeout=CONTROLLER_TIMEOUT_S,
        )
        run = Run(tuple(args), completed.returncode, completed.stdout, completed.stderr)
        print(run)  # pytest shows it with the report of a failing test
        assert "Traceback" not in run.output, run
        return run

    def sh(self, script: str, *, user: str | None = None) -> str:
        """Runs ``sh -c script`` in the controller container; returns its standard output."""
        options = [] if user is None else [f"--user={user}"]
        return self.docker("exec", *options, self.controller_id, "sh", "-c", script).stdout

    def files(self, directory: PurePosixPath) -> dict[str, str]:
        """{name: "uid:gid"} of every entry of ``directory``, hidden ones too; {} if absent."""
        listing = self.sh(
            f"[ ! -d '{directory}' ] || find '{directory}' -mindepth 1 -maxdepth 1 "
            "-printf '%U:%G %f\\n'"
        )
        return {name: ids for ids, name in (line.split(" ", 1) for line in listing.splitlines())}

    def backups(self, ident: str) -> set[str]:
        """Names of the files of ``ident``'s backup directory named as backups are."""
        return {name for name in self.files(data_dir_in_container(ident)) if is_backup_name(name)}

    def plant(self, ident: str, *names: str) -> None:
        """Creates empty files ``names`` in ``ident``'s backup directory, as the postgres user."""
        paths = " ".join(f"'{data_dir_in_container(ident) / name}'" for name in names)
        self.sh(f"touch {paths}", user="postgres")

    def remove(self, ident: str, *names: str) -> None:
        paths = " ".join(f"'{data_dir_in_container(ident) / name}'" for name in names)
        self.sh(f"rm -f {paths}", user="postgres")

    def sha256(self, path: PurePosixPath) -> str:
        return self.sh(f"sha256sum '{path}'").split()[0]

    def logs(self, since: str | None = None) -> str:
        """The controller's log (its standard output and error), from ``since`` if given."""
        options = [] if since is None else [f"--since={since}"]
        result = self.docker("logs", *options, self.controller_id)
        return result.stdout + result.stderr

    def inspect(self, template: str) -> str:
        return self.docker("inspect", f"--format={template}", self.controller_id).stdout.strip()

    def wait_until_scheduling(self, since: str | None = None, timeout: float = 60.0) -> None:
        """Waits until the controller's log (from ``since``) announces its next scheduled run."""
        wait_until(
            lambda: "next scheduled backup at" in self.logs(since),
            timeout,
            "the controller to announce its next scheduled backup",
        )

    def use_schedule(self, schedule: str) -> None:
        """Gives the controller BACKUP_SCHEDULE ``schedule`` (re-creating it if that changes it).

        Returns once the (new) controller announces its next run.
        """
        if schedule == self.schedule:
            return
        self.schedule = schedule
        self.compose("up", "-d", "--no-deps", "controller")
        self._controller_id = None
        self.wait_until_scheduling()

    def stop_server(self, server: PgServer) -> None:
        """Stops a database service cleanly (SIGINT: a fast shutdown)."""
        self.compose("stop", server.service)

    def start_server(self, server: PgServer, timeout: float = 60.0) -> None:
        """Starts a database service and returns once it answers ``select 1``."""
        self.compose("start", server.service)
        wait_until(lambda: answers_select_1(server), timeout, f"{server.service} to answer")


def assert_no_password(text: str, what: str) -> None:
    for server, _ in E2E_SERVERS.values():
        assert server.password not in text, f"{server.service}'s password is in {what}:\n{text}"
