"""A partial backup's note goes off-site with its copy, through the real controller, into a
real S3 server (SeaweedFS) and a directory (``file://``), over a PostgreSQL 15 cluster of
this host: ``list --remote`` says the copy is partial and what it left out (an encrypted
note with the identity only); ``restore --remote`` and ``verify --remote --restore`` of
it work from the store alone; ``sync`` completes a copy made before notes went
off-site; ``prune --remote`` deletes the note with its copy."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

import attrs
import pytest

from .age_keys import new_key_pair
from .process import Controller
from .s3 import S3Server
from .servers import PgServer, psql
from .test_offsite import NEW as PLANTED
from .test_offsite import plant_backup
from .test_partial_backups import DB, LEFT_OUT, cluster, dumped, shop, tables  # noqa: F401  (fixtures)

pytestmark = pytest.mark.integration

AGE_MAGIC = b"age-encryption.org/v1\n"
ROW_END = (
    "  partial: --exclude-table=audit_log '--exclude-table=\"Sales, 2024\"' "
    "'--exclude-table=\"odd $(touch marker) name\"' '--exclude-table-data=cache_*' "
    "--exclude-schema=scratch"
)


@attrs.frozen
class Store:
    """Where the controller's off-site copies of ``shop`` are, read as a test reads them."""

    s3: S3Server | None
    prefix: str
    directory: Path | None

    def names(self) -> set[str]:
        """The names under ``shop/``, hidden records of the directory included."""
        if self.s3 is not None:
            return {key.rsplit("/", 1)[-1] for key in self.s3.keys(f"{self.prefix}/shop/")}
        assert self.directory is not None
        folder = self.directory / "shop"
        return {path.name for path in folder.iterdir()} if folder.is_dir() else set()

    def read(self, name: str) -> bytes:
        if self.s3 is not None:
            key = f"{self.prefix}/shop/{name}"
            return self.s3.client().get_object(Bucket=self.s3.bucket, Key=key)["Body"].read()
        assert self.directory is not None
        return (self.directory / "shop" / name).read_bytes()

    def delete(self, name: str) -> None:
        """Delete ``name`` (and the directory's record of it) as a hand would."""
        if self.s3 is not None:
            self.s3.client().delete_object(Bucket=self.s3.bucket, Key=f"{self.prefix}/shop/{name}")
            return
        assert self.directory is not None
        for path in (self.directory / "shop" / name, self.directory / "shop" / f".{name}.meta"):
            path.unlink()


@pytest.fixture(params=["s3", "file"])
def store(request: pytest.FixtureRequest, shop: Controller) -> Store:  # noqa: F811
    """``shop``'s copies go to a prefix of their own of the S3 server, or to a directory."""
    prefix = f"it-{uuid.uuid4().hex[:12]}/partial"
    if request.param == "s3":
        s3: S3Server = request.getfixturevalue("s3_server")
        shop.env.update(s3.environ(prefix))
        return Store(s3=s3, prefix=prefix, directory=None)
    directory = shop.workdir / "nas"
    directory.mkdir()
    directory.chmod(0o755)
    shop.env["OFFSITE_URL"] = f"file://{directory}"
    return Store(s3=None, prefix=prefix, directory=directory)


def remote_entries(controller: Controller, database: str) -> dict[str, dict[str, Any]]:
    """``list --remote --json`` of ``database``, each copy by its name."""
    listed = controller("list", database, "--remote", "--json")
    assert listed.returncode == 0, listed
    return {entry["name"]: entry for entry in json.loads(listed.stdout)["backups"]}


def note_of(backup: str) -> str:
    return backup.removesuffix(".dump") + ".left-out.json"


def test_a_partial_backups_copy_carries_its_note_and_list_remote_shows_what_it_left_out(
    shop: Controller,  # noqa: F811
    cluster: PgServer,  # noqa: F811
    store: Store,
) -> None:
    shop.add_database("whole", cluster, db=DB)
    backup = dumped(shop)
    assert shop("dump", "whole").returncode == 0

    listed = shop("list", "shop", "--remote")
    [mine] = remote_entries(shop, "shop").values()
    [whole] = remote_entries(shop, "whole").values()

    note = note_of(backup)
    assert {note, f"{note}.sha256"} <= store.names()
    assert store.read(note) == (shop.data_dir("shop") / note).read_bytes()
    row = next(line for line in listed.stdout.splitlines() if line.startswith(backup))
    assert row.endswith(ROW_END), listed
    assert mine["name"] == backup
    assert (mine["partial"], mine["left_out"], mine["usable"]) == (True, LEFT_OUT, True)
    assert (whole["partial"], whole["left_out"], whole["usable"]) == (False, [], True)


def test_an_encrypted_partial_copy_restores_and_verifies_from_the_store_alone(
    shop: Controller,  # noqa: F811
    cluster: PgServer,  # noqa: F811
    store: Store,
) -> None:
    identity = shop.workdir / "keys" / "ops.txt"
    shop.env["ENCRYPTION_RECIPIENTS"] = new_key_pair(identity)
    backup = dumped(shop)
    stored_note = store.read(note_of(backup))
    without_identity = remote_entries(shop, "shop")[backup]
    for path in shop.data_dir("shop").iterdir():
        if path.name != "history.jsonl":
            path.unlink()
    psql(cluster, "INSERT INTO customers VALUES (51, 'after the backup');", db=DB)
    shop.env["ENCRYPTION_IDENTITY_FILE"] = str(identity)

    with_identity = remote_entries(shop, "shop")[backup]
    restored = shop("restore", "shop", backup, "--remote")
    verified = shop("verify", "shop", backup, "--remote", "--restore")

    assert stored_note.startswith(AGE_MAGIC) and b"audit_log" not in stored_note
    assert (without_identity["partial"], without_identity["left_out"]) == (True, [])
    assert (with_identity["partial"], with_identity["left_out"]) == (True, LEFT_OUT)
    assert restored.returncode == 0, restored
    assert f"shop: {backup} is partial (--exclude-table=audit_log " in restored.stdout
    assert tables(cluster) == {"public.cache_pages": 0, "public.customers": 50}
    assert verified.returncode == 0, verified
    assert f"shop: ok {backup}: checksum and archive ok; restored 1 tables" in verified.stdout
    history = (shop.data_dir("shop") / "history.jsonl").read_text().splitlines()
    [restore] = [json.loads(line) for line in history if '"operation": "restore"' in line]
    assert (restore["partial"], restore["left_out"]) == (True, LEFT_OUT)


def test_sync_completes_a_copy_made_before_notes_went_off_site_and_prune_deletes_its_note(
    shop: Controller,  # noqa: F811
    store: Store,
) -> None:
    plant_backup(shop, "shop", PLANTED, os.urandom(3000))
    assert shop("sync", "shop").returncode == 0  # as a version that kept notes local did
    (shop.data_dir("shop") / note_of(PLANTED)).write_text(
        json.dumps({"schema": 1, "left_out": ["--exclude-table=audit_log"]})
    )
    made_before = remote_entries(shop, "shop")[PLANTED]

    synced = shop("sync", "shop")
    completed = remote_entries(shop, "shop")[PLANTED]
    store.delete(f"{note_of(PLANTED)}.sha256")
    lost_its_checksum = remote_entries(shop, "shop")[PLANTED]
    assert shop("sync", "shop").returncode == 0
    assert shop("dump", "shop").returncode == 0
    newest = json.loads(shop("list", "shop", "--json").stdout)["backups"][0]["name"]
    pruned = shop("prune", "shop", "--remote")

    assert (made_before["partial"], made_before["usable"]) == (False, True)
    assert f"shop: completed {PLANTED}: its missing companions uploaded" in synced.stdout
    assert (completed["partial"], completed["left_out"]) == (True, ["--exclude-table=audit_log"])
    assert lost_its_checksum["problem"] == (
        f"no checksum object for its note ({note_of(PLANTED)}.sha256)"
    )
    assert pruned.returncode == 0, pruned
    stem = PLANTED.removesuffix(".dump")
    assert not {name for name in store.names() if stem in name}, store.names()
    assert {note_of(newest), f"{note_of(newest)}.sha256"} <= store.names()
