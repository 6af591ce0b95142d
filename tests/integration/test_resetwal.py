"""resetwal against a real cluster of this host, owned by the postgres user.

The controller runs as root, as a plain ``docker exec`` would: it must run
pg_resetwal as the owner of the data directory, since the tool refuses root.

The cluster lives where the controller looks for database ``w`` when MODE is
not production: ``./backup-data/databases/w`` under the test's directory. It
listens on a Unix socket only (port 55440, in a private directory).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

from .process import Controller, hand_to_postgres
from .servers import PG_BIN

pytestmark = pytest.mark.integration

PORT = 55440
ROWS = 1000


@attrs.frozen(kw_only=True)
class HostCluster:
    """A PostgreSQL 15 cluster of this host, driven as the postgres user."""

    data: Path
    socket_dir: Path

    def as_postgres(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            ["/usr/sbin/runuser", "-u", "postgres", "--", *argv],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(argv)} exited {result.returncode}: {result.stderr}")
        return result

    def pg_ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), *args, check=check)

    def start(self) -> None:
        self.pg_ctl("start", "-w", "-t", "60", "-l", str(self.socket_dir / "server.log"))

    def stop(self, mode: str = "fast") -> None:
        self.pg_ctl("stop", "-w", "-m", mode)

    def is_running(self) -> bool:
        return self.pg_ctl("status", check=False).returncode == 0

    def sql(self, statement: str) -> str:
        """Runs one statement (its own transaction) through the socket; returns its output."""
        psql = [str(PG_BIN / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"]
        psql += ["-h", str(self.socket_dir), "-p", str(PORT), "-d", "postgres"]
        return self.as_postgres(*psql, "-c", statement).stdout.strip()

    def control_state(self) -> tuple[bytes, list[str]]:
        """The control file's bytes and the WAL files: what pg_resetwal rewrites."""
        return (
            (self.data / "global" / "pg_control").read_bytes(),
            sorted(p.name for p in (self.data / "pg_wal").iterdir()),
        )


@pytest.fixture
def postgres_controller(controller: Controller) -> Controller:
    """The test's controller, with its directory usable by the postgres user (the cluster's)."""
    hand_to_postgres(controller.workdir)
    controller.env["DATABASE_LIST"] = "w"
    return controller


@pytest.fixture
def cluster(postgres_controller: Controller) -> Iterator[HostCluster]:
    """A running cluster at backup-data/databases/w with a table ``t`` of ROWS rows."""
    data = postgres_controller.database_dir("w")
    data.mkdir(parents=True)
    shutil.chown(data, "postgres", "postgres")
    for directory in (data.parent, data.parent.parent):
        shutil.chown(directory, "postgres", "postgres")
    data.chmod(0o700)
    socket_dir = Path(tempfile.mkdtemp(prefix="pgbm-rw-"))
    shutil.chown(socket_dir, "postgres", "postgres")
    cluster = HostCluster(data=data, socket_dir=socket_dir)
    initdb = [str(PG_BIN / "initdb"), "-D", str(data), "--auth=trust", "--no-sync"]
    cluster.as_postgres(*initdb, "--encoding=UTF8", "--locale=C.UTF-8")
    with (data / "postgresql.conf").open("a") as conf:
        conf.write(
            f"port = {PORT}\nlisten_addresses = ''\nunix_socket_directories = '{socket_dir}'\n"
        )
    cluster.start()
    cluster.sql(f"CREATE TABLE t AS SELECT generate_series(1, {ROWS}) AS i")
    try:
        yield cluster
    finally:
        if cluster.is_running():
            cluster.stop("immediate")
        shutil.rmtree(socket_dir, ignore_errors=True)


def test_resetwal_refuses_while_the_server_is_running(
    cluster: HostCluster, postgres_controller: Controller
) -> None:
    before = cluster.control_state()

    run = postgres_controller("resetwal", "w")

    assert run.returncode == 1, run
    assert "running" in run.output.lower(), run
    assert cluster.control_state() == before
    assert cluster.sql("SELECT count(*) FROM t") == str(ROWS)


def test_resetwal_dry_run_changes_nothing(
    cluster: HostCluster, postgres_controller: Controller
) -> None:
    cluster.stop()
    before = cluster.control_state()

    run = postgres_controller("resetwal", "w", "--dry-run")

    assert run.returncode == 0, run
    assert cluster.control_state() == before


def test_resetwal_resets_a_cleanly_stopped_cluster_that_then_starts_with_its_rows(
    cluster: HostCluster, postgres_controller: Controller
) -> None:
    cluster.stop()
    before = cluster.control_state()

    run = postgres_controller("resetwal", "w")

    assert run.returncode == 0, run
    assert cluster.control_state() != before
    cluster.start()
    assert cluster.sql("SELECT count(*) FROM t") == str(ROWS)


def test_resetwal_after_a_crash_asks_for_force_and_changes_nothing(
    cluster: HostCluster, postgres_controller: Controller
) -> None:
    cluster.stop("immediate")
    before = cluster.control_state()

    run = postgres_controller("resetwal", "w")

    assert run.returncode != 0, run
    assert "--force" in run.output, run
    assert cluster.control_state() == before


def test_resetwal_force_after_a_crash_lets_the_cluster_start_again(
    cluster: HostCluster, postgres_controller: Controller
) -> None:
    # Rows written out by a checkpoint survive a reset; what only the WAL held does not.
    cluster.sql("CHECKPOINT")
    cluster.stop("immediate")

    run = postgres_controller("resetwal", "w", "--force")

    assert run.returncode == 0, run
    cluster.start()
    assert cluster.sql("SELECT count(*) FROM t") == str(ROWS)
