"""Off-site copies with the controller image: a host dumps the stack's pg17 with OFFSITE_URL
set, then loses its backups; a new host, its backup directory empty, lists the copy in the
bucket, restores it and verifies it; encrypted with age, the copy needs the identity
there, and a changed ciphertext is refused.

Each host is the image run with ``docker run --rm`` on the host network, its backup
volume a directory of the test, configured as an operator would: pg17's password and
the S3 secret key in files mounted read-only where Docker puts secrets, the S3 store
SeaweedFS on this host's loopback (``e2e_s3_server``), addressed path-style.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import attrs
import pytest

from ..integration.age_keys import new_key_pair
from ..integration.data import catalog_snapshot, damage_pagila, table_fingerprints
from ..integration.s3 import S3Server
from .hosts import ImageHost
from .pagila import load_fresh_pagila
from .stack import E2E_PG17, REPO, ContainerStack, created

pytestmark = pytest.mark.integration

SECRET_KEY_FILE = "/run/secrets/s3_secret_access_key"
IDENTITY_FILE = "/run/secrets/age_identity"
PG17_PASSWORD_FILE = "/run/secrets/pg17_password"


def image_host(
    stack: ContainerStack, s3: S3Server, backups: Path, secret_file: Path, prefix: str
) -> ImageHost:
    """A host backing up pg17, its off-site copies under ``prefix`` of ``s3``'s bucket."""
    environment = {
        "DATABASE_LIST": "pg17",
        "PG17_POSTGRES_HOST": "127.0.0.1",
        "PG17_POSTGRES_PORT": str(E2E_PG17.port),
        "PG17_POSTGRES_PASSWORD_FILE": PG17_PASSWORD_FILE,
        "PG17_POSTGRES_DB": "appdb",
        "MODE": "production",
        "SERVER": "production",
        "TZ": "Europe/Berlin",
        "OFFSITE_URL": f"s3://{s3.bucket}/{prefix}",
        "S3_ENDPOINT_URL": s3.endpoint,
        "S3_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": s3.access_key,
        "AWS_SECRET_ACCESS_KEY_FILE": SECRET_KEY_FILE,
        "S3_FORCE_PATH_STYLE": "true",
    }
    mounts = (
        f"{REPO / 'docker' / 'e2e' / 'pg17-password'}:{PG17_PASSWORD_FILE}:ro",
        f"{secret_file}:{SECRET_KEY_FILE}:ro",
    )
    return ImageHost(stack, backups, environment, mounts, s3.secret_key)


def test_a_new_host_restores_and_verifies_the_off_site_copy_of_a_lost_hosts_dump(
    container_stack: ContainerStack, e2e_s3_server: S3Server, tmp_path: Path
) -> None:
    s3 = e2e_s3_server
    load_fresh_pagila(E2E_PG17, 17)
    tables = table_fingerprints(E2E_PG17)
    catalog = catalog_snapshot(E2E_PG17)
    secret_file = tmp_path / "s3_secret_access_key"
    secret_file.write_text(f"{s3.secret_key}\n", encoding="utf-8")
    secret_file.chmod(0o444)  # the controller reads it as the postgres user
    prefix = f"e2e-{uuid.uuid4().hex[:12]}/prod"
    old_host, new_host = (
        image_host(container_stack, s3, tmp_path / name, secret_file, prefix)
        for name in ("old-host", "new-host")
    )

    dumped = old_host("dump", "pg17")
    name = created(dumped, "pg17")
    uploaded = s3.keys(prefix)
    shutil.rmtree(old_host.backups)  # the old host is lost, with every local backup
    damage_pagila(E2E_PG17)
    assert table_fingerprints(E2E_PG17) != tables
    listed = new_host("list", "pg17", "--remote")
    restored = new_host("restore", "pg17", name, "--remote")
    verified = new_host("verify", "pg17", "--remote")

    assert dumped.returncode == 0, dumped
    assert f"{prefix}/pg17/{name}" in uploaded, uploaded
    assert listed.returncode == 0, listed
    assert [line.split()[0] for line in listed.stdout.splitlines()[1:]] == [name], listed
    assert restored.returncode == 0, restored
    assert f"pg17: restored {name}" in restored.stdout, restored
    assert table_fingerprints(E2E_PG17) == tables
    assert catalog_snapshot(E2E_PG17) == catalog
    assert verified.returncode == 0, verified
    assert f"pg17: ok {name}" in verified.stdout, verified


def test_an_encrypted_copy_restores_on_a_new_host_only_with_the_identity_and_unchanged(
    container_stack: ContainerStack, e2e_s3_server: S3Server, tmp_path: Path
) -> None:
    s3 = e2e_s3_server
    load_fresh_pagila(E2E_PG17, 17)
    tables = table_fingerprints(E2E_PG17)
    secret_file = tmp_path / "s3_secret_access_key"
    secret_file.write_text(f"{s3.secret_key}\n", encoding="utf-8")
    secret_file.chmod(0o444)
    keys = {name: age_key_pair(tmp_path / f"{name}.txt") for name in ("ops", "stranger")}
    prefix = f"e2e-{uuid.uuid4().hex[:12]}/enc"
    old_host, new_host = (
        image_host(container_stack, s3, tmp_path / name, secret_file, prefix)
        for name in ("old-host", "new-host")
    )
    old_host = attrs.evolve(
        old_host, environment={**old_host.environment, "ENCRYPTION_RECIPIENTS": keys["ops"][0]}
    )

    def with_identity(name: str) -> ImageHost:
        return attrs.evolve(
            new_host,
            environment={**new_host.environment, "ENCRYPTION_IDENTITY_FILE": IDENTITY_FILE},
            mounts=(*new_host.mounts, f"{keys[name][1]}:{IDENTITY_FILE}:ro"),
        )

    dumped = old_host("dump", "pg17")
    name = created(dumped, "pg17")
    key = f"{prefix}/pg17/{name}"
    stored = s3.client().get_object(Bucket=s3.bucket, Key=key)
    ciphertext = stored["Body"].read()
    shutil.rmtree(old_host.backups)
    damage_pagila(E2E_PG17)
    damaged = table_fingerprints(E2E_PG17)
    without_identity = new_host("restore", "pg17", name, "--remote")
    wrong_identity = with_identity("stranger")("restore", "pg17", name, "--remote")
    changed = bytearray(ciphertext)
    changed[len(changed) // 2] ^= 0x01
    s3.client().put_object(
        Bucket=s3.bucket, Key=key, Body=bytes(changed), Metadata=stored["Metadata"]
    )
    refused = with_identity("ops")("verify", "pg17", name, "--remote")
    untouched = table_fingerprints(E2E_PG17)
    s3.client().put_object(Bucket=s3.bucket, Key=key, Body=ciphertext, Metadata=stored["Metadata"])
    restored = with_identity("ops")("restore", "pg17", name, "--remote")

    assert dumped.returncode == 0, dumped
    assert ciphertext.startswith(b"age-encryption.org/v1\n")
    assert stored["Metadata"]["encryption"] == "age", stored["Metadata"]
    assert without_identity.returncode == 2, without_identity
    assert "ENCRYPTION_IDENTITY_FILE" in without_identity.stderr, without_identity
    assert wrong_identity.returncode == 2, wrong_identity
    assert "encrypted to other keys" in wrong_identity.stderr, wrong_identity
    assert refused.returncode == 3, refused
    assert f"pg17: FAILED {name}" in refused.stdout, refused
    assert untouched == damaged
    assert restored.returncode == 0, restored
    assert table_fingerprints(E2E_PG17) == tables
    for run in (without_identity, wrong_identity, refused, restored):
        for _, identity in keys.values():
            assert identity.read_text().splitlines()[-1] not in run.output, run


def age_key_pair(identity: Path) -> tuple[str, Path]:
    """A new age key pair: its public key and its identity file, readable by the image's
    postgres user."""
    public = new_key_pair(identity)
    identity.chmod(0o444)
    return public, identity
