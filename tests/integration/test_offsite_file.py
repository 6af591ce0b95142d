"""``OFFSITE_URL=file:///<directory>`` (a NAS share mounted into the container) through the
real controller: the same key layout as S3 under the directory, ``sync``, ``list
--remote``, ``restore --remote``, ``verify --remote``, ``prune --remote``, ``status`` and
encryption with age; an interrupted copy is never listed nor restored; a file of other
content is never overwritten; a bad directory is one line and exit 2."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from .age_keys import new_key_pair
from .data import load_pagila, table_fingerprints
from .process import Controller, assert_one_line_error
from .servers import PgServers
from .test_offsite import MIDDLE, NEW, OLD, local_files, plant_backup

pytestmark = pytest.mark.integration


def mounted_share(controller: Controller, databases: str) -> Path:
    """Return the share's mount point: a directory of the controller's that only its owner
    writes in (whatever the umask), named by OFFSITE_URL, for ``databases``."""
    directory = controller.workdir / "nas"
    directory.mkdir()
    directory.chmod(0o755)
    controller.env["DATABASE_LIST"] = databases
    controller.env["OFFSITE_URL"] = f"file://{directory}"
    return directory


@pytest.fixture
def nas(controller: Controller) -> Path:
    return mounted_share(controller, "a,b")


def test_sync_copies_every_backup_under_the_directory_and_list_remote_shows_them(
    controller: Controller, nas: Path
) -> None:
    plant_backup(controller, "a", OLD, os.urandom(3000))
    plant_backup(controller, "a", NEW, os.urandom(5000))
    before = local_files(controller, "a")

    synced = controller("sync", "a")
    again = controller("sync", "a")
    listed = controller("list", "a", "--remote")
    document = controller("list", "a", "--remote", "--json")
    empty = controller("list", "b", "--remote")

    assert synced.returncode == 0, synced
    assert synced.stdout.splitlines()[:2] == [
        f"a: uploaded {OLD} (2.9 KiB)",
        f"a: uploaded {NEW} (4.9 KiB)",
    ]
    assert again.stdout == "a: 0 uploaded, 2 already off-site\n", again
    copied = {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in (nas / "a").iterdir()
        if not p.name.startswith(".")
    }
    assert copied == before
    assert listed.returncode == 0, listed
    assert NEW in listed.stdout and OLD in listed.stdout
    assert empty.stdout == f"no off-site copies of b in file://{nas}/b/\n", empty
    entries = json.loads(document.stdout)["backups"]
    assert [(e["name"], e["sha256"], e["location"]) for e in entries] == [
        (NEW, before[NEW], f"file://{nas}/a/{NEW}"),
        (OLD, before[OLD], f"file://{nas}/a/{OLD}"),
    ]


def test_an_interrupted_copy_is_never_listed_and_its_name_is_copied_whole_by_the_next_sync(
    controller: Controller, nas: Path
) -> None:
    content = os.urandom(4000)
    plant_backup(controller, "a", OLD, content)
    (nas / "a").mkdir()
    (nas / "a" / f".{OLD}.4242.abcd1234.partial").write_bytes(content[:1000])  # truncated
    (nas / "a" / f".{NEW}.4242.abcd1234.partial").write_bytes(b"")  # a leftover

    listed = controller("list", "a", "--remote", "--json")
    restored = controller("restore", "a", NEW, "--remote")
    synced = controller("sync", "a")

    assert json.loads(listed.stdout)["backups"] == [], listed
    assert restored.returncode != 0 and "no off-site copy" in restored.stderr, restored
    assert synced.returncode == 0, synced
    assert (nas / "a" / OLD).read_bytes() == content


def test_a_file_of_other_content_under_a_backup_name_is_never_overwritten(
    controller: Controller, nas: Path
) -> None:
    plant_backup(controller, "a", OLD, os.urandom(2000))
    (nas / "a").mkdir()
    (nas / "a" / OLD).write_bytes(b"someone else's file")

    synced = controller("sync", "a")
    listed = controller("list", "a", "--remote", "--json")

    assert synced.returncode == 1, synced
    assert "never overwritten" in synced.stdout + synced.stderr
    assert (nas / "a" / OLD).read_bytes() == b"someone else's file"
    [copy] = json.loads(listed.stdout)["backups"]
    assert copy["name"] == OLD and copy["usable"] is False


def test_prune_remote_applies_retention_to_the_copies_in_the_directory(
    controller: Controller, nas: Path
) -> None:
    for name in (OLD, MIDDLE, NEW):
        plant_backup(controller, "a", name, os.urandom(1000))
    controller.env["DAILY_RETENTION"] = "1"
    controller.env["WEEKLY_RETENTION"] = "0"
    controller.env["MONTHLY_RETENTION"] = "0"
    controller("sync", "a")

    pruned = controller("prune", "a", "--remote")

    assert pruned.returncode == 0, pruned
    left = sorted(p.name for p in (nas / "a").iterdir() if p.name.endswith(".dump"))
    assert NEW in left and len(left) < 3, (pruned, left)


def test_status_says_whether_every_backup_is_in_the_directory(
    controller: Controller, nas: Path
) -> None:
    plant_backup(controller, "a", NEW, os.urandom(1000))
    before = controller("status", "a", "--json")
    controller("sync", "a")

    after = controller("status", "a", "--json")

    assert json.loads(before.stdout)["databases"][0]["offsite"]["state"] == "missing", before
    assert json.loads(after.stdout)["databases"][0]["offsite"]["state"] == "ok", after


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("file://relative/dir", "host"),
        ("file:relative", "relative"),
        ("file:///no/such/directory", "not a directory"),
    ],
)
def test_a_bad_directory_is_one_line_naming_offsite_url_with_exit_2(
    controller: Controller, nas: Path, url: str, said: str
) -> None:
    controller.env["OFFSITE_URL"] = url

    run = controller("list", "a", "--remote")

    assert_one_line_error(run, 2)
    assert "OFFSITE_URL" in run.stderr and said in run.stderr


def test_a_share_that_is_away_never_stops_a_local_backup(
    pg: PgServers, controller: Controller, nas: Path
) -> None:
    controller.add_database("a", pg.a)
    controller.env["DATABASE_LIST"] = "a"
    controller.env["OFFSITE_URL"] = f"file://{nas}/not-mounted"

    dumped = controller("dump", "a")

    assert dumped.returncode == 1, dumped  # the backup is made, its copy is not
    assert "not off-site yet" in dumped.stderr and "OFFSITE_URL names" in dumped.stderr
    assert len(controller.backups("a")) == 1


def test_an_encrypted_copy_in_the_directory_restores_and_verifies_with_the_identity(
    pg: PgServers, controller: Controller, nas: Path
) -> None:
    load_pagila(pg.a)
    controller.add_database("a", pg.a)
    controller.env["DATABASE_LIST"] = "a"
    identity = controller.workdir / "keys" / "ops.txt"
    identity.parent.mkdir()
    controller.env["ENCRYPTION_RECIPIENTS"] = new_key_pair(identity)
    controller.env["ENCRYPTION_IDENTITY_FILE"] = str(identity)
    tables = table_fingerprints(pg.a)
    dumped = controller("dump", "a")
    [name] = controller.backups("a")
    for path in controller.data_dir("a").iterdir():
        if path.name != "history.jsonl":
            path.unlink()

    restored = controller("restore", "a", name, "--remote", "--no-safety-dump")
    verified = controller("verify", "a", "--remote")

    assert dumped.returncode == 0, dumped
    assert (nas / "a" / name).read_bytes().startswith(b"age-encryption.org/v1\n")
    assert restored.returncode == 0, restored
    assert table_fingerprints(pg.a) == tables
    assert verified.returncode == 0 and f"a: ok {name}" in verified.stdout, verified
