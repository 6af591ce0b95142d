"""restore --remote and verify --remote against a real S3 server: a host that lost its
local backups gets its database back exactly from the bucket; a tampered object is
refused with exit 3 and changes nothing; no downloaded file is left behind; a copy that
lost its companions is not off-site until a sync completes it."""

from __future__ import annotations

import json
import uuid

import pytest

from .data import catalog_snapshot, damage_pagila, load_pagila, table_fingerprints
from .process import Controller, assert_one_line_error
from .s3 import S3Server
from .servers import PgServers

pytestmark = pytest.mark.integration


@pytest.fixture
def offsite(pg: PgServers, controller: Controller, s3_server: S3Server) -> Controller:
    """A controller of service ``a`` (pagila loaded) with off-site copies of its own."""
    load_pagila(pg.a)
    controller.add_database("a", pg.a)
    controller.env["DATABASE_LIST"] = "a"
    controller.env.update(s3_server.environ(f"it-{uuid.uuid4().hex[:12]}/prod"))
    return controller


def lose_local_backups(controller: Controller) -> None:
    for path in controller.data_dir("a").iterdir():
        if path.name != "history.jsonl":
            path.unlink()


def test_restore_remote_brings_back_exactly_the_database_after_the_local_copy_is_lost(
    pg: PgServers, offsite: Controller
) -> None:
    tables = table_fingerprints(pg.a)
    catalog = catalog_snapshot(pg.a)
    dumped = offsite("dump", "a")
    [name] = offsite.backups("a")
    synced = offsite("sync", "a")
    lose_local_backups(offsite)
    damage_pagila(pg.a)
    assert table_fingerprints(pg.a) != tables

    restored = offsite("restore", "a", name, "--remote", "--with-globals")
    verified = offsite("verify", "a", "--remote", "--restore")

    assert dumped.returncode == 0, dumped
    assert synced.stdout == "a: 0 uploaded, 1 already off-site\n", synced
    assert restored.returncode == 0, restored
    assert f"restored {name}" in restored.stdout, restored
    assert table_fingerprints(pg.a) == tables
    assert catalog_snapshot(pg.a) == catalog
    assert verified.returncode == 0, verified
    assert f"a: ok {name}" in verified.stdout, verified
    # Only the safety dump of the damaged content is local now: no download is left.
    [safety] = offsite.backups("a")
    assert safety != name
    assert not [p for p in offsite.data_dir("a").iterdir() if p.name.startswith(".")]


def test_a_tampered_object_fails_verify_remote_with_3_and_restore_remote_changes_nothing(
    pg: PgServers, offsite: Controller, s3_server: S3Server
) -> None:
    dumped = offsite("dump", "a")
    [name] = offsite.backups("a")
    prefix = offsite.env["OFFSITE_URL"].removeprefix(f"s3://{s3_server.bucket}/")
    key = f"{prefix}/a/{name}"
    client = s3_server.client()
    body = bytearray(client.get_object(Bucket=s3_server.bucket, Key=key)["Body"].read())
    body[len(body) // 2] ^= 0xFF  # one flipped byte, same size
    client.put_object(Bucket=s3_server.bucket, Key=key, Body=bytes(body))
    lose_local_backups(offsite)
    damage_pagila(pg.a)
    damaged = table_fingerprints(pg.a)

    verified = offsite("verify", "a", name, "--remote")
    restored = offsite("restore", "a", name, "--remote")

    assert dumped.returncode == 0, dumped
    assert verified.returncode == 3, verified
    assert f"a: FAILED {name}" in verified.stdout, verified
    assert_one_line_error(restored, 3)
    assert "checksum" in restored.stderr.lower(), restored
    assert table_fingerprints(pg.a) == damaged
    assert offsite.backups("a") == []  # no safety dump, no download left
    assert not [p for p in offsite.data_dir("a").iterdir() if p.name.startswith(".")]


def test_a_copy_that_lost_its_companions_is_completed_by_sync_and_then_restores(
    pg: PgServers, offsite: Controller, s3_server: S3Server
) -> None:
    tables = table_fingerprints(pg.a)
    dumped = offsite("dump", "a")
    [name] = offsite.backups("a")
    prefix = offsite.env["OFFSITE_URL"].removeprefix(f"s3://{s3_server.bucket}/")
    base = f"{prefix}/a/"
    stem = name.removesuffix(".dump")
    companions = [f"{name}.sha256", f"{stem}.globals.sql", f"{stem}.globals.sql.sha256"]
    client = s3_server.client()
    for key in companions:
        client.delete_object(Bucket=s3_server.bucket, Key=base + key)
    archive = client.head_object(Bucket=s3_server.bucket, Key=base + name)

    listed = offsite("list", "a", "--remote")
    synced = offsite("sync", "a")
    again = offsite("sync", "a")
    lose_local_backups(offsite)
    damage_pagila(pg.a)
    restored = offsite("restore", "a", name, "--remote", "--with-globals")

    assert dumped.returncode == 0, dumped
    assert f"UNUSABLE: no checksum object ({name}.sha256)" in listed.stdout, listed
    assert synced.returncode == 0, synced
    assert synced.stdout == (
        f"a: completed {name}: its missing companions uploaded\n"
        "a: 0 uploaded, 1 completed, 0 already off-site\n"
    ), synced
    assert again.stdout == "a: 0 uploaded, 1 already off-site\n", again
    assert set(s3_server.keys(base)) == {base + key for key in [name, *companions]}
    after = client.head_object(Bucket=s3_server.bucket, Key=base + name)
    assert (after["ETag"], after["LastModified"]) == (archive["ETag"], archive["LastModified"])
    assert restored.returncode == 0, restored
    assert table_fingerprints(pg.a) == tables


def test_a_copy_whose_checksum_object_was_replaced_is_refused_until_it_is_removed_and_synced(
    pg: PgServers, offsite: Controller, s3_server: S3Server
) -> None:
    dumped = offsite("dump", "a")
    [name] = offsite.backups("a")
    prefix = offsite.env["OFFSITE_URL"].removeprefix(f"s3://{s3_server.bucket}/")
    checksum = f"{prefix}/a/{name}.sha256"
    client = s3_server.client()
    client.put_object(Bucket=s3_server.bucket, Key=checksum, Body=f"{'0' * 64}  {name}\n".encode())

    refused = offsite("sync", "a")
    missing = offsite("status", "a")  # reports the refusal
    client.delete_object(Bucket=s3_server.bucket, Key=checksum)  # the operator's fix
    completed = offsite("sync", "a")
    ok = offsite("status", "a")

    assert dumped.returncode == 0, dumped
    assert_one_line_error(refused, 1)
    assert "exists with other content" in refused.stderr, refused
    assert "1 backup(s) not off-site, kept locally" in refused.stderr, refused
    # The sync that found the copy unusable outweighs the one that confirmed it earlier.
    [line] = [line for line in missing.stdout.splitlines() if "off-site:" in line]
    assert line.startswith("  off-site: missing (1 of 1 backup(s) not off-site"), missing
    assert "; last sync failed at " in line and "exists with other content" in line, missing
    assert completed.returncode == 0, completed
    assert f"a: completed {name}" in completed.stdout, completed
    assert "  off-site: ok (1 backup(s) off-site; last sync " in ok.stdout, ok


def test_copies_whose_globals_or_checksum_line_were_replaced_are_unusable_until_synced(
    pg: PgServers, offsite: Controller, s3_server: S3Server
) -> None:
    dumped = offsite("dump", "a")
    [name] = offsite.backups("a")
    prefix = offsite.env["OFFSITE_URL"].removeprefix(f"s3://{s3_server.bucket}/")
    base, globals_name = f"{prefix}/a/", name.removesuffix(".dump") + ".globals.sql"
    client = s3_server.client()
    checksum = client.get_object(Bucket=s3_server.bucket, Key=f"{base}{name}.sha256")
    digest = checksum["Body"].read().split()[0].decode()
    replaced = {  # what the review put over each object, one at a time
        f"{globals_name}.sha256": f"{'e' * 64}  {globals_name}\n",
        globals_name: "CREATE ROLE intruder;\n",
        f"{name}.sha256": f"{digest}  other_file.dump\n",
    }
    seen = []

    for key, body in replaced.items():
        client.delete_object(Bucket=s3_server.bucket, Key=base + key)
        client.put_object(Bucket=s3_server.bucket, Key=base + key, Body=body.encode())
        listed = offsite("list", "a", "--remote", "--json")
        refused = offsite("sync", "a")
        restore = offsite("restore", "a", name, "--remote", "--with-globals")
        client.delete_object(Bucket=s3_server.bucket, Key=base + key)  # the operator's fix
        completed = offsite("sync", "a")
        [entry] = json.loads(listed.stdout)["backups"]
        seen.append(
            (
                key,
                entry["usable"],
                refused.returncode,
                "exists with other content" in refused.stderr,
                restore.returncode,
                f"a: completed {name}" in completed.stdout,
            )
        )
    relisted = offsite("list", "a", "--remote", "--json")

    assert dumped.returncode == 0, dumped
    assert seen == [(key, False, 1, True, 3, True) for key in replaced]
    assert [entry["usable"] for entry in json.loads(relisted.stdout)["backups"]] == [True]
