"""The controller container's main process: ``controller start`` as PID 1.

The module re-creates the controller with ``BACKUP_SCHEDULE='* * * * *'`` (and puts
the quiet schedule back at its end), after planting backups of every tier, some
past their retention and some not, as the postgres user. Each test waits for
the scheduler's next run where it needs one, so the tests hold in any order.
``docker stop`` is checked while the scheduler itself is dumping, since that is
what the README promises: the dump is stopped and its partial file removed.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import tarfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import PurePosixPath
from zoneinfo import ZoneInfo

import attrs
import pytest

from ..integration.process import Run, assert_one_line_error
from ..integration.running import sessions_of, table_locked, wait_until
from .pagila import load_fresh_pagila
from .stack import (
    CONTROLLER_IMAGE,
    E2E_PG15,
    E2E_SERVERS,
    POSTGRES_IDS,
    ContainerStack,
    assert_no_password,
    backup_name,
    data_dir_in_container,
    docker_timestamp,
    is_backup_name,
    is_partial_name,
    shared_file_in_container,
)

pytestmark = pytest.mark.integration

EVERY_MINUTE = "* * * * *"
SERVERS = E2E_SERVERS
# A run starts at the next whole minute: at most 60 s away, plus the dumps (three).
NEXT_RUN_TIMEOUT_S = 120.0
# docker stop sends SIGTERM, then SIGKILL after the compose file's 20 s grace period.
STOP_LIMIT_S = 8.0


@attrs.frozen(kw_only=True)
class Planted:
    """Backups planted in each database's directory before the scheduler started."""

    expired: tuple[str, ...]
    kept: tuple[str, ...]
    other: str  # not a backup: the README says it is never touched
    since: str  # when the scheduling controller was started, for ``docker logs --since``


@pytest.fixture(scope="module")
def scheduling(container_stack: ContainerStack) -> Iterator[Planted]:
    """The controller, re-created to run every minute, with backups planted beforehand."""
    stack = container_stack
    quiet = stack.schedule
    for server, major in SERVERS.values():
        load_fresh_pagila(server, major)
    planted = Planted(
        expired=(
            backup_name("daily", timedelta(days=10)),
            backup_name("weekly", timedelta(days=40)),
            backup_name("monthly", timedelta(days=400)),
        ),
        kept=(
            backup_name("daily", timedelta(days=3)),
            backup_name("weekly", timedelta(days=20)),
            backup_name("monthly", timedelta(days=200)),
        ),
        other="notes.txt",
        since=docker_timestamp(),
    )
    for ident in SERVERS:
        stack.plant(ident, *planted.expired, *planted.kept, planted.other)
    try:
        stack.use_schedule(EVERY_MINUTE)
        yield planted
    finally:
        stack.use_schedule(quiet)
        for ident in SERVERS:
            stack.remove(ident, *planted.expired, *planted.kept, planted.other)


def files_of_stopped_container(stack: ContainerStack, directory: PurePosixPath) -> set[str]:
    """Names in ``directory`` of the (stopped) controller, read with ``docker cp``."""
    result = subprocess.run(
        ["docker", "cp", f"{stack.controller_id}:{directory}", "-"],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    with tarfile.open(fileobj=io.BytesIO(result.stdout)) as archive:
        paths = [PurePosixPath(member.name) for member in archive.getmembers()]
    return {path.name for path in paths if len(path.parts) == 2}


def test_the_scheduler_dumps_every_database_shares_them_and_applies_retention(
    container_stack: ContainerStack, scheduling: Planted
) -> None:
    stack = container_stack

    wait_until(
        lambda: all(
            f"{ident}: deleted {name}" in stack.logs(scheduling.since)
            for ident in SERVERS
            for name in scheduling.expired
        ),
        NEXT_RUN_TIMEOUT_S,
        "a scheduled run that dumps every database and deletes the expired backups",
    )

    logs = stack.logs(scheduling.since)
    for ident in SERVERS:
        owners = stack.files(data_dir_in_container(ident))
        backups = {name for name in owners if is_backup_name(name)}
        made = set(re.findall(rf"^.* INFO {ident}: created (\S+) \(.*\)$", logs, re.M))
        assert made, logs
        assert made & backups, f"{ident}: none of {made} is in {sorted(owners)}"
        assert backups >= set(scheduling.kept)
        assert not backups & set(scheduling.expired)
        assert scheduling.other in owners
        assert set(owners.values()) == {POSTGRES_IDS}, owners
        shared = stack.sha256(shared_file_in_container(ident))
        assert shared in {
            stack.sha256(data_dir_in_container(ident) / name) for name in made & backups
        }
    assert_no_password(logs, "the controller's log")


def test_the_next_run_is_announced_in_the_time_zone_of_tz(
    container_stack: ContainerStack, scheduling: Planted
) -> None:
    stack = container_stack
    berlin_offset = datetime.now(ZoneInfo("Europe/Berlin")).strftime("%z")  # +0100 in November

    logs = stack.logs(scheduling.since)

    assert "scheduled dumps on * * * * * (Europe/Berlin), copied to shared" in logs, logs
    announced = re.findall(r"next scheduled backup at (\S+)", logs)
    assert announced, logs
    for at in announced:
        assert at.endswith(f"{berlin_offset[:3]}:{berlin_offset[3:]}"), logs
        assert datetime.fromisoformat(at).second == 0, logs


def test_the_image_healthcheck_is_healthy_while_the_scheduler_runs(
    container_stack: ContainerStack,
) -> None:
    stack = container_stack
    image_check = json.loads(
        stack.docker(
            "image", "inspect", "--format={{json .Config.Healthcheck}}", CONTROLLER_IMAGE
        ).stdout
    )

    run = stack.controller("health")

    assert image_check["Test"] == ["CMD", "/controller", "health"]
    assert run.returncode == 0, run
    assert run.stdout.startswith("ok: "), run
    wait_until(
        lambda: stack.inspect("{{.State.Health.Status}}") == "healthy",
        60,
        "docker to report the controller healthy",
    )


def test_health_fails_in_one_line_without_a_scheduler(container_stack: ContainerStack) -> None:
    argv = ["run", "--rm", "--network=host", "--entrypoint=/controller"]
    argv += ["--env=DATABASE_LIST=pg15", CONTROLLER_IMAGE, "health"]

    completed = container_stack.docker(*argv, check=False)

    run = Run(("health",), completed.returncode, completed.stdout, completed.stderr)
    print(run)
    assert_one_line_error(run, 1)
    assert "heartbeat" in run.stderr, run


def test_docker_stop_during_a_scheduled_dump_stops_at_once_and_keeps_nothing_of_it(
    container_stack: ContainerStack, scheduling: Planted
) -> None:
    stack = container_stack
    data = data_dir_in_container("pg15")
    with table_locked(E2E_PG15, "public.actor"):
        wait_until(
            lambda: any(is_partial_name(name) for name in stack.files(data)),
            NEXT_RUN_TIMEOUT_S,
            "a scheduled dump of pg15 to start writing its .partial file",
        )
        wait_until(
            lambda: sessions_of(E2E_PG15, "pg-backup-manager", waiting=True) == 1,
            30,
            "the scheduled pg_dump to wait for the lock",
        )
        # The run is stuck on pg15, the first database: no backup of it is being written.
        before = stack.backups("pg15")
        since = docker_timestamp()
        started = time.monotonic()

        stack.docker("stop", stack.controller_id, timeout=60)

        stopped_in = time.monotonic() - started
        print(f"docker stop took {stopped_in:.1f} s")
        left = files_of_stopped_container(stack, data)
    # The lock is gone: a pg_dump session that outlived the controller would now end by itself.
    wait_until(
        lambda: sessions_of(E2E_PG15, "pg-backup-manager") == 0,
        30,
        "no pg_dump session of the controller on pg15",
    )
    assert stopped_in < STOP_LIMIT_S, f"docker stop took {stopped_in:.1f} s"
    assert stack.inspect("{{.State.ExitCode}}") == "0"
    assert "stopped by SIGTERM" in stack.logs(since)
    assert not [name for name in left if is_partial_name(name)], left
    assert {name for name in left if is_backup_name(name)} == before

    restarted = datetime.now(UTC).replace(microsecond=0)
    stack.docker("start", stack.controller_id)
    stack.wait_until_scheduling(docker_timestamp(restarted))

    after = stack.files(data)
    assert not [name for name in after if is_partial_name(name)], after
    for name in {name for name in after if is_backup_name(name)} - before:
        # Only a run after the restart may have added one.
        assert name.split("_", 2)[2] >= f"{restarted:%Y-%m-%dT%H:%M:%SZ}.dump", name
