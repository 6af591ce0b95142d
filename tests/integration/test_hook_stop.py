"""A stop signal (``docker stop``'s SIGTERM) to the real controller while a backup's
pre-backup command or its real ``pg_dump`` runs: the post-backup command still runs, told
that the controller was stopped, then the controller exits as a stop makes it exit."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .pitr_cluster import host_cluster, sql
from .process import Controller
from .regression_db import HostServer
from .running import sessions_of, spawn, stop, table_locked, wait_until
from .test_hooks import SAVE_ENVIRONMENT, environment, out, script

SERVICES = ("host", "other")
STOPPED = "the controller was stopped (SIGTERM) during the backup"


@pytest.fixture(scope="module")
def cluster() -> Iterator[HostServer]:
    """A PostgreSQL 15 cluster of this host, with a table a test can lock."""
    with host_cluster("hook-stop") as host:
        sql(host, "CREATE TABLE held (id int)")
        yield host


@pytest.fixture
def hooked(controller: Controller, cluster: HostServer) -> Controller:
    """The controller with the services ``host`` and ``other`` on ``cluster``; a post-backup
    command that saves its environment in ``out/post-<service>.env``."""
    for service in SERVICES:
        controller.add_database(service, cluster.server, db="postgres")
    (controller.workdir / "out").mkdir()
    saved = SAVE_ENVIRONMENT.format(out=out(controller), phase="post-$BACKUP_DATABASE")
    controller.env["POST_BACKUP_COMMAND"] = str(script(controller, "post", saved))
    return controller


def test_a_dump_stopped_during_the_pre_backup_command_runs_the_post_backup_command(
    hooked: Controller,
) -> None:
    pre = script(hooked, "pre", f"echo $$ > {out(hooked)}/pre.pid\nsleep 600")
    hooked.env["PRE_BACKUP_COMMAND"] = str(pre)

    process = spawn(hooked, "dump", "host")
    wait_until(lambda: (out(hooked) / "pre.pid").is_file(), 60, "the pre-backup command")
    code, _, err = stop(process)

    assert code == 1, err
    assert "stopped by SIGTERM; nothing half-written was kept" in err
    told = environment(hooked, "post-host")
    assert (told["BACKUP_OUTCOME"], told["BACKUP_ERROR"], told["BACKUP_PATH"]) == (
        "failure",
        STOPPED,
        "",
    )
    assert hooked.backups("host") == []


@pytest.mark.parametrize("services", [SERVICES[:1], SERVICES], ids=["one", "side-by-side"])
def test_start_stopped_while_pg_dump_runs_runs_the_post_backup_commands_and_exits_0(
    hooked: Controller, cluster: HostServer, tmp_path: Path, services: tuple[str, ...]
) -> None:
    root = tmp_path / "var-lib-postgresql"
    (root / "backup" / "data").mkdir(parents=True)
    hooked.env.update(
        DATABASE_LIST=",".join(services),
        MODE="production",
        BACKUP_ON_START="true",
        BACKUP_SCHEDULE="0 0 1 1 *",
        BACKUP_PARALLELISM="2",
    )

    with table_locked(cluster.server, "held", db="postgres"):
        process = spawn(hooked, "start", namespace_root=root)
        try:
            wait_until(
                lambda: (
                    sessions_of(cluster.server, "pg-backup-manager", waiting=True) == len(services)
                ),
                90,
                "each pg_dump waiting on the lock",
            )
        except BaseException:
            process.kill()
            raise
        code, _, err = stop(process)

    assert code == 0, err
    assert "stopped by SIGTERM" in err
    for service in services:
        told = environment(hooked, f"post-{service}")
        assert told["BACKUP_OUTCOME"] == "failure", service
        assert told["BACKUP_ERROR"].startswith(STOPPED), told["BACKUP_ERROR"]
        assert told["BACKUP_PATH"] == ""
        assert list((root / "backup" / "data" / service).glob("file_*")) == []
