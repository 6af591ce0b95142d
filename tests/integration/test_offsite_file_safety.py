"""``OFFSITE_URL=file:///<directory>`` against what a share allows that a bucket does not,
through the real controller: a file changed in place is no usable copy; only the
controller's own temporary files are cleaned up; a read-only share serves the reading
commands; a directory others can write in, or a symbolic link in place of a database's
directory, is refused."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from .process import Controller, assert_one_line_error
from .test_offsite import NEW, OLD, plant_backup
from .test_offsite_file import mounted_share

pytestmark = pytest.mark.integration

DAYS_AGO_3 = time.time() - 3 * 24 * 3600


@pytest.fixture
def share(controller: Controller) -> Path:
    return mounted_share(controller, "a")


def test_a_copy_truncated_in_place_is_unusable_never_counted_and_never_overwritten(
    controller: Controller, share: Path
) -> None:
    plant_backup(controller, "a", OLD, os.urandom(3000))
    plant_backup(controller, "a", NEW, os.urandom(300_000))
    assert controller("sync", "a").returncode == 0
    os.truncate(share / "a" / NEW, 200_000)
    controller.env.update(DAILY_RETENTION="0", WEEKLY_RETENTION="0", MONTHLY_RETENTION="0")
    controller.env["MIN_BACKUPS_KEPT"] = "1"

    listed = controller("list", "a", "--remote", "--json")
    pruned = controller("prune", "a", "--remote")
    synced = controller("sync", "a")

    usable = {copy["name"]: copy["usable"] for copy in json.loads(listed.stdout)["backups"]}
    assert usable == {NEW: False, OLD: True}, listed
    assert (share / "a" / OLD).exists(), pruned  # the one usable copy: kept, never NEW
    assert synced.returncode == 1 and "never overwritten" in synced.output, synced
    assert (share / "a" / NEW).stat().st_size == 200_000


def test_only_the_controllers_own_leftovers_are_cleaned_up(
    controller: Controller, share: Path
) -> None:
    plant_backup(controller, "a", NEW, os.urandom(1000))
    (share / "a").mkdir()
    others = [".my-notes.partial", ".a.b.partial", ".zzz.partial", f".{NEW}.notes.partial"]
    note = OLD.removesuffix(".dump") + ".left-out.json"
    ours = [
        f".{OLD}.4242.abcd1234.partial",
        f".{OLD}.sha256.4242.abcd1234.partial",
        f".{note}.4242.abcd1234.partial",
        f".{note}.sha256.meta.4242.abcd1234.partial",
    ]
    for name in others + ours:
        (share / "a" / name).write_text("keep\n")
        os.utime(share / "a" / name, (DAYS_AGO_3, DAYS_AGO_3))

    synced = controller("sync", "a")

    assert synced.returncode == 0, synced
    left = {path.name for path in (share / "a").iterdir()}
    assert set(others) <= left and not set(ours) & left, left


def test_a_read_only_share_serves_list_and_verify_but_not_sync(
    controller: Controller, share: Path
) -> None:
    plant_backup(controller, "a", OLD, os.urandom(2000))
    assert controller("sync", "a").returncode == 0
    plant_backup(controller, "a", NEW, os.urandom(2000))
    for directory in (share, share / "a"):
        directory.chmod(0o555)

    listed = controller("list", "a", "--remote")
    verified = controller("verify", "a", "--remote", OLD)
    synced = controller("sync", "a")

    assert listed.returncode == 0 and OLD in listed.stdout, listed
    # Read and checked (random bytes: downloaded whole, then not an archive to pg_restore).
    assert verified.returncode == 3 and "pg_restore cannot read it" in verified.stdout, verified
    assert synced.returncode == 2 and "cannot write" in synced.stderr, synced


@pytest.mark.parametrize("where", ["root", "database"])
def test_a_directory_others_can_write_in_is_refused_naming_offsite_url(
    controller: Controller, share: Path, where: str
) -> None:
    plant_backup(controller, "a", OLD, os.urandom(1000))
    (share / "a").mkdir()
    (share if where == "root" else share / "a").chmod(0o777)

    listed = controller("list", "a", "--remote")
    synced = controller("sync", "a")

    assert_one_line_error(listed, 2)
    assert "OFFSITE_URL" in listed.stderr and "other users" in listed.stderr
    assert synced.returncode == 2 and "OFFSITE_URL" in synced.stderr, synced
    assert not (share / "a" / OLD).exists()


def test_a_sticky_root_others_can_write_in_is_accepted(controller: Controller, share: Path) -> None:
    plant_backup(controller, "a", OLD, os.urandom(1000))
    share.chmod(0o1777)

    synced = controller("sync", "a")

    assert synced.returncode == 0, synced


def test_a_symbolic_link_in_place_of_a_databases_directory_is_never_followed(
    controller: Controller, share: Path
) -> None:
    plant_backup(controller, "a", OLD, os.urandom(1000))
    elsewhere = controller.workdir / "elsewhere"
    elsewhere.mkdir()
    (share / "a").symlink_to(elsewhere)

    synced = controller("sync", "a")
    listed = controller("list", "a", "--remote")

    assert synced.returncode == 2 and "symbolic link" in synced.stderr, synced
    assert_one_line_error(listed, 2)
    assert "OFFSITE_URL" in listed.stderr and "symbolic link" in listed.stderr
    assert list(elsewhere.iterdir()) == []
