"""The password of a service never in the environment of the real ``pg_dump`` the
controller runs, where a process of the same user reads ``/proc/<pid>/environ``: it is in
a passfile of that ``pg_dump`` alone, of mode 0600, with no name, gone when it ends."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .process import Controller
from .regression_db import PASSWORD, HostServer, as_postgres
from .running import sessions_of, spawn, table_locked, wait_until
from .test_hook_stop import cluster  # noqa: F401 (a PostgreSQL 15 cluster with a table to lock)

SERVICE = "host"
TOKEN = "api-token-secret-value"


def pg_dump_of(controller_pid: int) -> int:
    """The pid of the pg_dump that the controller ``controller_pid`` runs."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv0 = (entry / "cmdline").read_bytes().split(b"\0")[0]
            parent = (entry / "stat").read_text().rsplit(")", 1)[1].split()[1]
        except OSError:
            continue
        if argv0.endswith(b"/pg_dump") and int(parent) == controller_pid:
            return int(entry.name)
    raise AssertionError("no pg_dump of the controller")


def holding(directory: Path, secret: str) -> list[Path]:
    """The files under ``directory`` that hold ``secret``."""
    found = []
    for path in directory.rglob("*"):
        try:
            if path.is_file() and secret.encode() in path.read_bytes():
                found.append(path)
        except OSError:
            continue
    return found


def test_a_process_of_the_same_user_finds_no_password_in_pg_dumps_environment_or_a_file(
    controller: Controller,
    cluster: HostServer,  # noqa: F811 (the fixture imported above)
    tmp_path: Path,
) -> None:
    controller.add_database(SERVICE, cluster.server, db="postgres")
    temporary = tmp_path / "tmp"
    temporary.mkdir(mode=0o1777)
    temporary.chmod(0o1777)
    controller.env.update(API_TOKEN=TOKEN, TMPDIR=str(temporary), PGPASSWORD=PASSWORD)

    with table_locked(cluster.server, "held", db="postgres"):
        process = spawn(controller, "dump", SERVICE)
        try:
            wait_until(
                lambda: sessions_of(cluster.server, "pg-backup-manager", waiting=True) == 1,
                60,
                "pg_dump waiting on the lock",
            )
            pid = pg_dump_of(process.pid)
            # What another process of the controller's user (a hook) reads of it:
            seen = as_postgres("cat", f"/proc/{pid}/environ")
            told = dict(line.split("=", 1) for line in seen.split("\0") if line)
            descriptor = told["PGPASSFILE"].removeprefix("/dev/fd/")
            passfile = Path(f"/proc/{pid}/fd/{descriptor}")
            mode = passfile.stat()
            target = os.readlink(passfile)
            during = holding(temporary, PASSWORD)
        except BaseException:
            process.kill()
            raise
    _, err = process.communicate(timeout=120)

    assert process.returncode == 0, err
    assert PASSWORD not in seen and TOKEN not in seen
    assert not {"PGPASSWORD", "HOST_POSTGRES_PASSWORD", "API_TOKEN"} & set(told), sorted(told)
    assert told["PGPASSFILE"] == f"/dev/fd/{descriptor}"
    assert stat.S_ISREG(mode.st_mode)
    assert (stat.S_IMODE(mode.st_mode), mode.st_uid) == (0o600, os.stat(cluster.data).st_uid)
    assert target.endswith("(deleted)"), target  # no name: no directory lists it
    assert during == []
    assert holding(temporary, PASSWORD) == []
    assert len(controller.backups(SERVICE)) == 1  # pg_dump read its passfile
