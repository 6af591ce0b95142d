"""``PRE_BACKUP_COMMAND`` and ``POST_BACKUP_COMMAND`` run by the real controller around
real dumps of a PostgreSQL 15 cluster of this host, as real scripts written for each test:
what they are told, what their failure does, their timeout and their output."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from pg_backup_manager.adapters.monitoring.run_history import HISTORY_NAME

from .pitr_cluster import host_cluster
from .process import BACKUP_NAME_PATTERN, Controller, assert_one_line_error
from .regression_db import PASSWORD, HostServer
from .running import spawn, stop, wait_until

SERVICE = "host"
# What a command may be given: the controller's PATH, HOME, LANG, its TZ, and the backup.
TOLD = (
    {"PATH", "HOME", "LANG", "TZ"}
    | {
        f"BACKUP_{name}"
        for name in ("PHASE", "DATABASE", "DBNAME", "HOST", "PORT", "USER", "DIR", "PATH")
    }
    | {"BACKUP_OUTCOME", "BACKUP_ERROR"}
)
# Written by each script: the environment its process was started with, exactly.
SAVE_ENVIRONMENT = "tr '\\0' '\\n' < /proc/$$/environ > {out}/{phase}.env"


@pytest.fixture(scope="module")
def cluster() -> Iterator[HostServer]:
    """A PostgreSQL 15 cluster of this host (no Docker), for every test of the module."""
    with host_cluster("hooks") as host:
        yield host


@pytest.fixture
def hooked(controller: Controller, cluster: HostServer) -> Controller:
    """The controller with the service ``host`` on ``cluster``, and a directory ``out``
    where the test's scripts write what they saw."""
    controller.add_database(SERVICE, cluster.server, db="postgres")
    (controller.workdir / "out").mkdir()
    return controller


def script(controller: Controller, name: str, body: str) -> Path:
    """Write an executable shell script ``name`` into the test's directory."""
    path = controller.workdir / "hooks" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


def out(controller: Controller) -> Path:
    return controller.workdir / "out"


def environment(controller: Controller, phase: str) -> dict[str, str]:
    """The environment a script saved with ``SAVE_ENVIRONMENT``."""
    lines = (out(controller) / f"{phase}.env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines)


def last_record(controller: Controller) -> dict[str, object]:
    text = (controller.data_dir(SERVICE) / HISTORY_NAME).read_text()
    record: dict[str, object] = json.loads(text.splitlines()[-1])
    return record


def test_a_failing_pre_backup_command_skips_the_dump_and_fails_like_any_other(
    hooked: Controller,
) -> None:
    pre = script(
        hooked,
        "pre",
        f"printf '%s\\n' \"$@\" > {out(hooked)}/args\necho 'writers still busy' >&2\nexit 3",
    )
    hooked.env["PRE_BACKUP_COMMAND"] = f"{pre} --reason 'nightly run'"

    run = hooked("dump", SERVICE)

    assert run.returncode == 1, run
    said = f"PRE_BACKUP_COMMAND ({pre}) failed (exit 3): writers still busy; no backup was taken"
    assert f"error: {SERVICE}: {said}\n" in run.stderr
    assert (out(hooked) / "args").read_text() == "--reason\nnightly run\n"
    assert hooked.backups(SERVICE) == []
    record = last_record(hooked)
    assert (record["operation"], record["outcome"], record["error"]) == ("dump", "failure", said)
    status = hooked("status", SERVICE, "--json")
    [found] = json.loads(status.stdout)["databases"]
    assert (found["consecutive_failures"], found["last_error"]) == (1, said)


def test_the_post_backup_command_sees_the_committed_backups_path_and_outcome(
    hooked: Controller, cluster: HostServer
) -> None:
    post = script(
        hooked,
        "post",
        SAVE_ENVIRONMENT.format(out=out(hooked), phase="post")
        + f'\ncp "$BACKUP_PATH" {out(hooked)}/copy.dump',
    )
    hooked.env["POST_BACKUP_COMMAND"] = str(post)

    run = hooked("dump", SERVICE)

    assert run.returncode == 0, run
    [name] = hooked.backups(SERVICE)
    told = environment(hooked, "post")
    assert told["BACKUP_PATH"] == str(hooked.data_dir(SERVICE) / name)
    assert (told["BACKUP_PHASE"], told["BACKUP_OUTCOME"], told["BACKUP_ERROR"]) == (
        "post",
        "success",
        "",
    )
    assert (told["BACKUP_DATABASE"], told["BACKUP_DBNAME"], told["BACKUP_PORT"]) == (
        SERVICE,
        "postgres",
        str(cluster.port),
    )
    assert told["BACKUP_DIR"] == str(hooked.data_dir(SERVICE))
    copy = (out(hooked) / "copy.dump").read_bytes()
    assert copy == (hooked.data_dir(SERVICE) / name).read_bytes()
    assert f"{SERVICE}: POST_BACKUP_COMMAND ({post}) ended (exit 0)" in run.stderr


def test_after_a_failed_dump_the_post_backup_command_hears_the_failure_and_its_error(
    hooked: Controller,
) -> None:
    post = script(hooked, "post", SAVE_ENVIRONMENT.format(out=out(hooked), phase="post"))
    hooked.env.update(
        POST_BACKUP_COMMAND=str(post), HOST_POSTGRES_PASSWORD="not-the-password-at-all"
    )

    run = hooked("dump", SERVICE)

    assert run.returncode == 1, run
    told = environment(hooked, "post")
    assert (told["BACKUP_OUTCOME"], told["BACKUP_PATH"]) == ("failure", "")
    assert "password authentication failed" in told["BACKUP_ERROR"]
    assert told["BACKUP_ERROR"] == last_record(hooked)["error"]


def test_a_failing_post_backup_command_fails_the_dump_and_keeps_the_backup(
    hooked: Controller,
) -> None:
    post = script(hooked, "post", "echo 'NAS not mounted'; exit 1")
    hooked.env["POST_BACKUP_COMMAND"] = str(post)

    run = hooked("dump", SERVICE)

    assert run.returncode == 1, run
    [name] = hooked.backups(SERVICE)
    said = f"POST_BACKUP_COMMAND ({post}) failed (exit 1): NAS not mounted; {name} is kept"
    assert f"error: {SERVICE}: {said}\n" in run.stderr
    record = last_record(hooked)
    assert (record["outcome"], record["backup"], record["error"]) == ("failure", name, said)
    assert hooked("verify", SERVICE, name).returncode == 0


def test_secrets_of_the_controllers_environment_never_reach_a_hook(
    hooked: Controller,
) -> None:
    for phase in ("pre", "post"):
        saved = SAVE_ENVIRONMENT.format(out=out(hooked), phase=phase)
        hooked.env[f"{phase.upper()}_BACKUP_COMMAND"] = str(script(hooked, phase, saved))
    secrets = {
        "PGPASSWORD": "pgpassword-secret-value",
        "PGPASSFILE": "/run/secrets/pgpassfile-secret-path",
        "API_TOKEN": "api-token-secret-value",
        "NOTIFY_URLS": "json://127.0.0.1:9/notify?token=notify-secret-value",
    }
    hooked.env.update(secrets)

    run = hooked("dump", SERVICE)

    assert run.returncode == 0, run
    for phase in ("pre", "post"):
        told = environment(hooked, phase)
        assert set(told) == TOLD, phase
        text = (out(hooked) / f"{phase}.env").read_text()
        for secret in [PASSWORD, *secrets.values()]:
            assert secret not in text, (phase, secret)
        assert "notify-secret-value" not in text


def test_a_hook_cannot_read_the_controllers_environment_through_proc_started_as_its_user(
    hooked: Controller,
) -> None:
    peek = f"cat /proc/$PPID/environ > {out(hooked)}/parent.env 2> {out(hooked)}/parent.err"
    hooked.env["PRE_BACKUP_COMMAND"] = str(script(hooked, "peek", f"{peek}\nexit 0"))
    hooked.env["API_TOKEN"] = "api-token-secret-value"

    run = hooked("dump", SERVICE, as_user="postgres")

    assert run.returncode == 0, run
    assert "api-token-secret-value" not in (out(hooked) / "parent.env").read_text()
    assert PASSWORD not in (out(hooked) / "parent.env").read_text()
    assert "Permission denied" in (out(hooked) / "parent.err").read_text()


def gone(pid: int) -> bool:
    """Whether process ``pid`` has ended (a zombie not yet reaped has ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def test_a_hook_that_outlives_hook_timeout_is_killed_with_every_process_it_started(
    hooked: Controller,
) -> None:
    pre = script(
        hooked,
        "pre",
        f"sleep 600 &\necho $! > {out(hooked)}/child.pid\necho $$ > {out(hooked)}/leader.pid\n"
        "sleep 600",
    )
    hooked.env.update(PRE_BACKUP_COMMAND=str(pre), HOOK_TIMEOUT="5")

    run = hooked("dump", SERVICE)

    assert run.returncode == 1, run
    assert (
        f"PRE_BACKUP_COMMAND ({pre}) did not end within 5 s (HOOK_TIMEOUT): it was killed "
        "with every process it started; no backup was taken"
    ) in run.stderr
    assert hooked.backups(SERVICE) == []
    for started in ("leader", "child"):
        pid = int((out(hooked) / f"{started}.pid").read_text())
        assert gone(pid), started


def test_a_hooks_output_goes_to_the_log_bounded_to_its_end(hooked: Controller) -> None:
    pre = script(
        hooked,
        "pre",
        'i=0; while [ $i -lt 20000 ]; do echo "out $i"; echo "err $i" >&2; i=$((i+1)); done',
    )
    hooked.env["PRE_BACKUP_COMMAND"] = str(pre)

    run = hooked("dump", SERVICE)

    assert run.returncode == 0, run
    logged = [line for line in run.stderr.splitlines() if " PRE_BACKUP_COMMAND" in line]
    assert logged[0].endswith("PRE_BACKUP_COMMAND said more; its last 50 line(s):")
    said = [line.rsplit("PRE_BACKUP_COMMAND: ", 1)[1] for line in logged[1:-1]]
    assert said == [f"{stream} {n}" for n in range(19975, 20000) for stream in ("out", "err")]
    assert logged[-1].endswith(f"PRE_BACKUP_COMMAND ({pre}) ended (exit 0)")
    assert len(hooked.backups(SERVICE)) == 1


def test_a_scheduled_run_runs_the_hooks_too(hooked: Controller, tmp_path: Path) -> None:
    root = tmp_path / "var-lib-postgresql"
    (root / "backup" / "data").mkdir(parents=True)
    post = script(hooked, "post", SAVE_ENVIRONMENT.format(out=out(hooked), phase="post"))
    hooked.env.update(
        MODE="production",
        BACKUP_ON_START="true",
        BACKUP_SCHEDULE="0 0 1 1 *",
        POST_BACKUP_COMMAND=str(post),
    )

    process = spawn(hooked, "start", namespace_root=root)
    try:
        wait_until(lambda: (out(hooked) / "post.env").is_file(), 90, "the post-backup command")
    finally:
        stop(process)

    told = environment(hooked, "post")
    assert told["BACKUP_OUTCOME"] == "success"
    data = "/var/lib/postgresql/backup/data/host/"
    assert told["BACKUP_PATH"].startswith(data)
    name = told["BACKUP_PATH"].removeprefix(data)
    assert (root / "backup" / "data" / SERVICE / name).is_file()
    assert re.fullmatch(BACKUP_NAME_PATTERN, name)


def test_a_hook_program_that_cannot_run_stops_every_command_at_start_with_exit_2(
    hooked: Controller,
) -> None:
    not_executable = script(hooked, "pre", "exit 0")
    not_executable.chmod(0o644)
    hooked.env.update(
        PRE_BACKUP_COMMAND=str(not_executable), HOST_POST_BACKUP_COMMAND="resume-writers"
    )

    dumped = hooked("dump", SERVICE)
    listed = hooked("list", SERVICE)
    del hooked.env["PRE_BACKUP_COMMAND"]
    configured = hooked("config")

    assert_one_line_error(dumped, 2)
    assert dumped.stderr == (
        f"error: PRE_BACKUP_COMMAND: {not_executable} is not an executable file for this "
        "user: give a program it can run\n"
    )
    assert_one_line_error(listed, 2)
    assert_one_line_error(configured, 2)
    assert configured.stderr.startswith(
        "error: HOST_POST_BACKUP_COMMAND: no program 'resume-writers' on PATH"
    )
    assert hooked.backups(SERVICE) == []
