"""KEEP_* and OFFSITE_KEEP_*: ``prune --dry-run`` shows exactly what the values keep and
deletes nothing, ``prune`` (locally) and ``prune --remote`` (against the real S3 server)
delete exactly the rest with their companions; a bad value is exit 2 and deletes nothing.

The backups are real: one ``controller dump`` of a host cluster, its archive and globals
planted under names of other ages with their checksums, so what stays still verifies.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import attrs
import pytest

from pg_backup_manager.domain.names import BackupName

from .pitr_cluster import host_cluster, sql
from .process import CONTROLLER, Controller, assert_one_line_error
from .s3 import S3Server

pytestmark = pytest.mark.integration

KEEP = {"KEEP_DAILY_DAYS": "3", "KEEP_WEEKLY": "2", "KEEP_MONTHLY_DAYS": "400"}
# Off-site: one daily copy, monthly copies 1000 days; weekly ones follow KEEP_WEEKLY.
OFFSITE_KEEP = {"OFFSITE_KEEP_DAILY": "1", "OFFSITE_KEEP_MONTHLY_DAYS": "1000"}


@attrs.frozen
class RealBackup:
    """The archive and globals of one real dump, to plant under other names."""

    archive: bytes
    globals: bytes


@pytest.fixture(scope="module")
def real_backup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealBackup]:
    with host_cluster("keep") as host:
        sql(host, "create table kept (id int primary key); insert into kept select 1")
        workdir = tmp_path_factory.mktemp("keep-dump")
        (workdir / "home").mkdir()
        env = {
            "PATH": f"{CONTROLLER.parent}:/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "TZ": "UTC",
            "HOME": str(workdir / "home"),
        }
        controller = Controller(workdir=workdir, env=env)
        controller.add_database("a", host.server, db="postgres")
        run = controller("dump", "a")
        assert run.returncode == 0, run
        [name] = controller.backups("a")
        directory = controller.data_dir("a")
        yield RealBackup(
            archive=(directory / name).read_bytes(),
            globals=(directory / BackupName.parse(name).globals_name).read_bytes(),
        )


def name(tier: str, age: timedelta) -> str:
    return f"file_{tier}_{datetime.now(UTC) - age:%Y-%m-%dT%H:%M:%SZ}.dump"


DAY = timedelta(days=1)
# Each backup with what KEEP (locally) and KEEP + OFFSITE_KEEP (off-site) do with it;
# the defaults (7, 30 and 365 days) would keep every one but the monthly of 420 days.
NEWEST = name("daily", timedelta(hours=2))
BACKUPS = {
    NEWEST: ("keep", "keep"),  # the newest: always kept
    name("daily", 2 * DAY): ("keep", "delete"),  # within 3 days; past the 1 copy off-site
    name("daily", 4 * DAY): ("delete", "delete"),  # past 3 days
    name("weekly", 10 * DAY): ("keep", "keep"),  # the newest of 2 weekly copies
    name("weekly", 17 * DAY): ("keep", "keep"),  # the second
    name("weekly", 24 * DAY): ("delete", "delete"),  # past the 2 newest weekly
    name("monthly", 380 * DAY): ("keep", "keep"),  # within 400 days (and 1000)
    name("monthly", 420 * DAY): ("delete", "keep"),  # past 400 days, within 1000 off-site
}
KEPT = sorted(n for n, (local, _) in BACKUPS.items() if local == "keep")
DELETED = sorted(n for n, (local, _) in BACKUPS.items() if local == "delete")
KEPT_OFFSITE = sorted(n for n, (_, offsite) in BACKUPS.items() if offsite == "keep")


def companions(backup: str) -> list[str]:
    """A backup's four files: archive, globals and their checksums."""
    globals_name = BackupName.parse(backup).globals_name
    return [backup, f"{backup}.sha256", globals_name, f"{globals_name}.sha256"]


def plant(controller: Controller, real: RealBackup, names: list[str]) -> None:
    directory = controller.data_dir("a")
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    for backup in names:
        globals_name = BackupName.parse(backup).globals_name
        for file, data in ((backup, real.archive), (globals_name, real.globals)):
            (directory / file).write_bytes(data)
            digest = hashlib.sha256(data).hexdigest()
            (directory / f"{file}.sha256").write_text(f"{digest}  {file}\n")
    (directory / "notes.txt").write_text("not a backup\n")


def verdicts(output: str) -> dict[str, str]:
    """Each backup a prune printed, with what it does (keep, would delete, delete)."""
    found = {}
    for line in output.splitlines():
        for backup in BACKUPS:
            if f" {backup} (" in line:
                found[backup] = line.split(": ", 1)[1].split(f" {backup}")[0].strip()
    return found


@pytest.fixture
def planted(controller: Controller, real_backup: RealBackup) -> Controller:
    controller.env["DATABASE_LIST"] = "a"
    controller.env.update(KEEP)
    plant(controller, real_backup, list(BACKUPS))
    return controller


def test_prune_dry_run_shows_what_the_keep_values_keep_and_prune_deletes_exactly_the_rest(
    planted: Controller,
) -> None:
    before = planted.files("a")

    dry = planted("prune", "a", "--dry-run")
    after_dry = planted.files("a")
    run = planted("prune", "a")
    verified = planted("verify", "a")

    assert dry.returncode == 0, dry
    assert after_dry == before
    assert verdicts(dry.stdout) == {
        n: "keep" if local == "keep" else "would delete" for n, (local, _) in BACKUPS.items()
    }
    lines = {n: line for line in dry.stdout.splitlines() for n in BACKUPS if f" {n} (" in line}
    assert lines[name_of(DELETED, "daily")].endswith("past 3 days)"), dry
    assert lines[name_of(DELETED, "weekly")].endswith("past the 2 newest of its tier)"), dry
    assert lines[name_of(DELETED, "monthly")].endswith("past 400 days)"), dry
    assert run.returncode == 0, run
    assert run.stdout.splitlines()[-1] == f"a: {len(DELETED)} of {len(BACKUPS)} backups deleted"
    assert planted.backups("a") == sorted([*KEPT, "notes.txt"])
    expected = sorted([f for backup in KEPT for f in companions(backup)] + ["notes.txt"])
    assert [f for f in planted.files("a") if f != "history.jsonl"] == expected
    assert verified.returncode == 0, verified


def name_of(names: list[str], tier: str) -> str:
    [found] = [n for n in names if n.startswith(f"file_{tier}_")]
    return found


def test_prune_remote_keeps_what_offsite_keep_says_and_the_local_values_for_the_rest(
    planted: Controller, s3_server: S3Server
) -> None:
    prefix = f"it-{uuid.uuid4().hex[:12]}/keep"
    planted.env.update(s3_server.environ(prefix))
    planted.env.update(OFFSITE_KEEP)
    assert planted("sync", "a").returncode == 0
    before = s3_server.keys(prefix)
    local_before = planted.files("a")

    dry = planted("prune", "a", "--remote", "--dry-run")
    after_dry = s3_server.keys(prefix)
    run = planted("prune", "a", "--remote")

    assert before == sorted(f"{prefix}/a/{f}" for backup in BACKUPS for f in companions(backup))
    assert dry.returncode == 0, dry
    assert after_dry == before
    assert verdicts(dry.stdout) == {
        n: "keep" if offsite == "keep" else "would delete" for n, (_, offsite) in BACKUPS.items()
    }
    assert run.returncode == 0, run
    gone = len(BACKUPS) - len(KEPT_OFFSITE)
    assert run.stdout.splitlines()[-1] == f"a: {gone} of {len(BACKUPS)} off-site copies deleted"
    assert s3_server.keys(prefix) == sorted(
        f"{prefix}/a/{f}" for backup in KEPT_OFFSITE for f in companions(backup)
    )
    assert planted.files("a") == local_before


def test_config_shows_the_keep_values_and_what_off_site_follows(planted: Controller) -> None:
    planted.env.update(OFFSITE_KEEP)

    run = planted("config")

    assert run.returncode == 0, run
    shown = {line.split()[0]: line.split(None, 1)[1] for line in run.stdout.splitlines()}
    assert shown["KEEP_DAILY_DAYS"] == "3  [environment]"
    assert shown["KEEP_WEEKLY_DAYS"] == "(off)  [default: KEEP_WEEKLY counts]"
    assert shown["OFFSITE_KEEP_DAILY"] == "1  [environment]"
    assert shown["OFFSITE_KEEP_WEEKLY"] == "2  [default: as KEEP_WEEKLY]"


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"KEEP_DAILY_DAYS": "0"}, "KEEP_DAILY_DAYS"),
        ({"OFFSITE_KEEP_WEEKLY": "\uff12"}, "OFFSITE_KEEP_WEEKLY"),  # a full-width 2
        ({"KEEP_MONTHLY": "12", "KEEP_MONTHLY_DAYS": "400"}, "KEEP_MONTHLY"),
        # KEEP_WEEKLY blank is unset: weekly backups back to their default 30 days.
        ({"KEEP_DAILY_DAYS": "45", "KEEP_WEEKLY": ""}, "KEEP_WEEKLY_DAYS"),
    ],
)
def test_a_bad_keep_value_stops_prune_and_start_with_one_line_naming_it_and_deletes_nothing(
    planted: Controller, environ: dict[str, str], named: str
) -> None:
    planted.env.update(environ)
    before = planted.files("a")

    runs = [planted("prune", "a"), planted("start")]

    for run in runs:
        assert_one_line_error(run, 2)
        assert named in run.stderr, run
    assert planted.files("a") == before
