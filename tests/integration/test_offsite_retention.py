"""Retention off-site against a real S3 server: only the keys under ``<prefix>/<service>/``
whose names are backups are judged; keys of another prefix, another service, and every
other object are left untouched; an object named like a backup that the controller would
not restore never counts and is reported; OFFSITE_RETENTION=false keeps every copy."""

from __future__ import annotations

import os
import uuid

import pytest

from .process import Controller, assert_one_line_error
from .s3 import S3Server
from .test_offsite import plant_backup

pytestmark = pytest.mark.integration

EXPIRED = "file_daily_2024-05-01T03:00:00Z.dump"
NEWEST = "file_daily_2024-07-03T03:00:00Z.dump"
EXPIRED_STEM = EXPIRED.removesuffix(".dump")
OLDER = "file_daily_2024-04-20T03:00:00Z.dump"


@pytest.fixture
def offsite(controller: Controller, s3_server: S3Server) -> Controller:
    prefix = f"it-{uuid.uuid4().hex[:12]}/prod"
    controller.env["DATABASE_LIST"] = "a,b"
    controller.env.update(s3_server.environ(prefix))
    return controller


def prefix_of(controller: Controller, s3_server: S3Server) -> str:
    return controller.env["OFFSITE_URL"].removeprefix(f"s3://{s3_server.bucket}/")


def test_prune_remote_deletes_only_this_services_expired_backups_and_their_companions(
    offsite: Controller, s3_server: S3Server
) -> None:
    prefix = prefix_of(offsite, s3_server)
    top = prefix.split("/")[0]
    for name in (EXPIRED, NEWEST):
        plant_backup(offsite, "a", name, os.urandom(500))
        plant_backup(offsite, "b", name, os.urandom(500))
    assert offsite("sync", "--all").returncode == 0
    client = s3_server.client()
    foreign = [
        f"{top}/other/a/{EXPIRED}",  # another controller's prefix
        f"{top}/other/a/{EXPIRED}.sha256",
        f"{prefix}/a-2/{EXPIRED}",  # a service whose name starts like this one's
        f"{prefix}/a/sub/{EXPIRED}",  # deeper than the service's prefix
        f"{prefix}/a/notes.txt",
        f"{prefix}/a/{EXPIRED}.partial",
    ]
    for key in foreign:
        client.put_object(Bucket=s3_server.bucket, Key=key, Body=b"not ours")
    before = s3_server.keys(top)
    local_before = sorted(p.name for p in offsite.data_dir("a").iterdir())

    dry = offsite("prune", "a", "--remote", "--dry-run")
    after_dry = s3_server.keys(top)
    run = offsite("prune", "a", "--remote")

    assert dry.returncode == 0, dry
    assert after_dry == before
    assert run.returncode == 0, run
    assert run.stdout.splitlines()[-1] == "a: 1 of 2 off-site copies deleted", run
    gone = {
        f"{prefix}/a/{EXPIRED}",
        f"{prefix}/a/{EXPIRED}.sha256",
        f"{prefix}/a/{EXPIRED_STEM}.globals.sql",
        f"{prefix}/a/{EXPIRED_STEM}.globals.sql.sha256",
    }
    assert gone <= set(before)
    assert s3_server.keys(top) == sorted(set(before) - gone)
    for key in foreign:
        assert client.get_object(Bucket=s3_server.bucket, Key=key)["Body"].read() == b"not ours"
    assert f"{prefix}/b/{EXPIRED}" in s3_server.keys(top)  # another service: untouched
    assert sorted(p.name for p in offsite.data_dir("a").iterdir()) == local_before


def test_with_offsite_retention_false_prune_remote_is_refused_and_keeps_every_copy(
    offsite: Controller, s3_server: S3Server
) -> None:
    prefix = prefix_of(offsite, s3_server)
    for name in (EXPIRED, NEWEST):
        plant_backup(offsite, "a", name, os.urandom(500))
    assert offsite("sync", "a").returncode == 0
    before = s3_server.keys(prefix)
    offsite.env["OFFSITE_RETENTION"] = "false"

    run = offsite("prune", "a", "--remote")

    assert_one_line_error(run, 2)
    assert "OFFSITE_RETENTION=false" in run.stderr, run
    assert s3_server.keys(prefix) == before


def test_a_stray_with_a_backup_name_is_reported_and_never_costs_a_real_copy(
    offsite: Controller, s3_server: S3Server
) -> None:
    prefix = prefix_of(offsite, s3_server)
    for name in (OLDER, EXPIRED):
        plant_backup(offsite, "a", name, os.urandom(500))
    assert offsite("sync", "a").returncode == 0
    client = s3_server.client()
    # A hand copy, or another host misconfigured onto the prefix: a backup's name, 12 bytes,
    # no checksum; the newest name of all.
    stray = f"{prefix}/a/{NEWEST}"
    client.put_object(Bucket=s3_server.bucket, Key=stray, Body=b"twelve bytes")
    kept = {
        f"{prefix}/a/{EXPIRED}",
        f"{prefix}/a/{EXPIRED}.sha256",
        f"{prefix}/a/{EXPIRED_STEM}.globals.sql",
        f"{prefix}/a/{EXPIRED_STEM}.globals.sql.sha256",
        stray,
    }

    listed = offsite("list", "a", "--remote")
    run = offsite("prune", "a", "--remote")

    assert listed.returncode == 0, listed
    [row] = [line for line in listed.stdout.splitlines() if line.startswith(NEWEST)]
    assert row.endswith(f"UNUSABLE: no checksum object ({NEWEST}.sha256)"), listed
    assert run.returncode == 0, run
    lines = run.stdout.splitlines()
    assert lines[0].startswith(f"a: keep   {EXPIRED} (daily, "), run
    assert lines[0].endswith("among the newest: always kept)"), run
    assert lines[1].startswith(f"a: delete {OLDER} (daily, "), run
    assert lines[2:] == [
        f"a: leave  {NEWEST} (not usable: no checksum object ({NEWEST}.sha256); "
        "not counted, never deleted)",
        "a: 1 of 2 off-site copies deleted; 1 unusable left alone",
    ], run
    assert set(s3_server.keys(f"{prefix}/a/")) == kept
    assert client.get_object(Bucket=s3_server.bucket, Key=stray)["Body"].read() == b"twelve bytes"
