"""Off-site copies across controllers and hosts, against a real S3 server: a controller
killed in the middle of an upload leaves nothing listed or restorable; controllers under
different prefixes of one bucket never see or touch each other's copies; and a new host
with nothing but the bucket's settings (and the age identity) restores every database."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import uuid
from pathlib import Path

import pytest

from .data import catalog_snapshot, damage_pagila, load_pagila, table_fingerprints
from .process import CONTROLLER, Controller, assert_one_line_error, hand_to_postgres
from .running import wait_until
from .s3 import HOST as S3_HOST
from .s3 import S3_PORT, S3Server
from .servers import PgServer, PgServers
from .tcp_gate import tcp_gate
from .test_offsite import plant_backup
from .test_offsite_encryption import key_pair

GATE_PORT = 28396  # below the ephemeral range; SeaweedFS's ports are 28330-28335

pytestmark = pytest.mark.integration

EXPIRED = "file_monthly_2024-06-01T03:00:00Z.dump"  # older than the monthly 365 days
KEPT = "file_daily_2026-11-20T03:00:00Z.dump"


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
def test_a_controller_killed_in_the_middle_of_an_upload_leaves_nothing_listed_or_restorable(
    controller: Controller, s3_server: S3Server, tmp_path: Path, encrypted: bool
) -> None:
    prefix = f"it-{uuid.uuid4().hex[:12]}/prod"
    name = "file_daily_2024-07-03T03:00:00Z.dump"
    content = os.urandom(96 * 1024 * 1024)  # in parts, plain and encrypted
    plant_backup(controller, "a", name, content)
    controller.env["DATABASE_LIST"] = "a"
    controller.env.update(s3_server.environ(prefix))
    if encrypted:
        public, identity = key_pair(tmp_path / "keys", "ops")
        controller.env["ENCRYPTION_RECIPIENTS"] = public
        controller.env["ENCRYPTION_IDENTITY_FILE"] = str(identity)
    key = f"{prefix}/a/{name}"
    with tcp_gate(GATE_PORT, (S3_HOST, S3_PORT)) as gate:
        controller.env["S3_ENDPOINT_URL"] = gate.endpoint
        gate.hold_after_bytes = 24 * 1024 * 1024  # a quarter into the archive, it hangs
        hand_to_postgres(controller.workdir)
        sync = subprocess.Popen(
            [str(CONTROLLER), "sync", "a"],
            cwd=controller.workdir,
            env=controller.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group: age dies with it
        )
        try:
            wait_until(gate.holding.is_set, 120, "the upload to hang in the middle")
            in_flight = s3_server.client().list_multipart_uploads(
                Bucket=s3_server.bucket, Prefix=key
            )
        finally:
            os.killpg(sync.pid, signal.SIGKILL)
            sync.communicate(timeout=60)
        gate.close()
        gate.hold_after_bytes = None
        gate.open()

        listed = controller("list", "a", "--remote")
        restored = controller("restore", "a", name, "--remote")
        verified = controller("verify", "a", name, "--remote")
        keys_after_kill = s3_server.keys(prefix)
        completed = controller("sync", "a")

    assert sync.returncode == -signal.SIGKILL
    assert [upload["Key"] for upload in in_flight.get("Uploads", [])] == [key]  # in parts
    assert key not in keys_after_kill
    assert listed.stdout.startswith("no off-site copies of a"), listed
    assert_one_line_error(restored, 1)
    assert "no off-site copy" in restored.stderr, restored
    assert_one_line_error(verified, 1)
    assert completed.returncode == 0, completed
    assert completed.stdout.splitlines()[-1] == "a: 1 uploaded, 0 already off-site", completed
    if not encrypted:
        body = s3_server.client().get_object(Bucket=s3_server.bucket, Key=key)["Body"].read()
        assert hashlib.sha256(body).digest() == hashlib.sha256(content).digest()
    assert (controller.data_dir("a") / name).read_bytes() == content
    assert not [p for p in controller.data_dir("a").iterdir() if p.name.startswith(".")]


def test_controllers_under_different_prefixes_of_one_bucket_never_touch_each_others_copies(
    s3_server: S3Server, tmp_path: Path
) -> None:
    root = f"it-{uuid.uuid4().hex[:12]}"
    # "site-1" is a string prefix of "site-10", and "site-1/a" lies inside site-1's
    # folder of service a: neither may be seen as site-1's.
    prefixes = {"one": f"{root}/site-1", "ten": f"{root}/site-10", "nested": f"{root}/site-1/a"}
    controllers: dict[str, Controller] = {}
    contents: dict[str, dict[str, bytes]] = {}
    for site, prefix in prefixes.items():
        workdir = tmp_path / site
        (workdir / "home").mkdir(parents=True)
        controller = Controller(
            workdir=workdir,
            env={
                "PATH": f"{CONTROLLER.parent}:/usr/local/bin:/usr/bin:/bin",
                "LANG": "C.UTF-8",
                "TZ": "UTC",
                "HOME": str(workdir / "home"),
                "DATABASE_LIST": "a",
                **s3_server.environ(prefix),
            },
        )
        contents[site] = {name: os.urandom(2000) for name in (EXPIRED, KEPT)}
        for name, content in contents[site].items():
            plant_backup(controller, "a", name, content)
        controllers[site] = controller

    synced = {site: controller("sync", "a") for site, controller in controllers.items()}
    listed = {site: controller("list", "a", "--remote") for site, controller in controllers.items()}
    before = {site: s3_server.keys(f"{prefix}/a/") for site, prefix in prefixes.items()}
    pruned = controllers["one"]("prune", "a", "--remote")
    after = {site: s3_server.keys(f"{prefix}/a/") for site, prefix in prefixes.items()}

    for site in prefixes:
        assert synced[site].stdout.splitlines()[-1] == "a: 2 uploaded, 0 already off-site"
        rows = [line.split()[0] for line in listed[site].stdout.splitlines()[1:]]
        assert rows == [KEPT, EXPIRED], listed[site]
    assert pruned.returncode == 0, pruned
    assert EXPIRED in pruned.stdout, pruned
    one = f"{prefixes['one']}/a/"
    own = sorted(key.removeprefix(one) for key in after["one"] if "/" not in key.removeprefix(one))
    assert own == sorted([KEPT, f"{KEPT}.sha256", *globals_of(KEPT)])
    assert after["ten"] == before["ten"]
    assert after["nested"] == before["nested"]
    client = s3_server.client()
    for site, prefix in prefixes.items():
        for name in (EXPIRED, KEPT) if site != "one" else (KEPT,):
            body = client.get_object(Bucket=s3_server.bucket, Key=f"{prefix}/a/{name}")["Body"]
            assert (
                hashlib.sha256(body.read()).digest()
                == hashlib.sha256(contents[site][name]).digest()
            ), (site, name)


def test_a_new_host_with_only_the_bucket_and_the_identity_restores_every_database(
    pg: PgServers, controller: Controller, s3_server: S3Server, tmp_path: Path
) -> None:
    for ident, server in (("a", pg.a), ("b", pg.b)):
        load_pagila(server)
        controller.add_database(ident, server)
    controller.env.update(s3_server.environ(f"it-{uuid.uuid4().hex[:12]}/prod"))
    public, identity = key_pair(tmp_path / "vault", "ops")
    controller.env["ENCRYPTION_RECIPIENTS"] = public
    before = {ident: (table_fingerprints(s), catalog_snapshot(s)) for ident, s in pg_items(pg)}
    dumped = controller("dump", "--all")
    # The old host is gone: a new one has the same variables, the identity, and no backups.
    new_host = tmp_path / "new-host"
    (new_host / "home").mkdir(parents=True)
    (new_host / "identity.txt").write_bytes(identity.read_bytes())
    new = Controller(
        workdir=new_host,
        env={
            **controller.env,
            "HOME": str(new_host / "home"),
            "ENCRYPTION_IDENTITY_FILE": str(new_host / "identity.txt"),
        },
    )
    for _, server in pg_items(pg):
        damage_pagila(server)

    listed = {ident: new("list", ident, "--remote") for ident in ("a", "b")}
    names = {ident: listed[ident].stdout.splitlines()[1].split()[0] for ident in ("a", "b")}
    restored = {
        ident: new("restore", ident, names[ident], "--remote", "--with-globals")
        for ident in ("a", "b")
    }

    assert dumped.returncode == 0, dumped
    for ident, server in pg_items(pg):
        assert restored[ident].returncode == 0, restored[ident]
        assert (table_fingerprints(server), catalog_snapshot(server)) == before[ident], ident
    assert not (new_host / "backup-data" / "data" / "a" / names["a"]).exists()


def pg_items(pg: PgServers) -> tuple[tuple[str, PgServer], ...]:
    return (("a", pg.a), ("b", pg.b))


def globals_of(name: str) -> tuple[str, str]:
    stem = name.removesuffix(".dump")
    return f"{stem}.globals.sql", f"{stem}.globals.sql.sha256"
