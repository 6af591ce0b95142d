"""Off-site copies encrypted with age (the real ``age`` program) against a real S3 server:
what leaves the host is ciphertext, the host that holds the identity gets the database
back exactly, a missing or wrong identity is one line, and a changed ciphertext exits 3."""

from __future__ import annotations

import contextlib
import hashlib
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from .age_keys import new_key_pair
from .data import catalog_snapshot, damage_pagila, load_pagila, table_fingerprints
from .process import Controller, Run, assert_one_line_error
from .s3 import HOST as S3_HOST
from .s3 import S3_PORT, S3Server, write_random
from .servers import PgServers
from .tcp_gate import tcp_gate

pytestmark = pytest.mark.integration

AGE_MAGIC = b"age-encryption.org/v1\n"
GATE_PORT = 28395  # below the ephemeral range; SeaweedFS's ports are 28330-28335
NAME = "file_daily_2024-07-03T03:00:00Z.dump"


def key_pair(directory: Path, name: str) -> tuple[str, Path]:
    """A new age key pair: its public key, and the file holding its secret key."""
    identity = directory / f"{name}.txt"
    return new_key_pair(identity), identity


@pytest.fixture
def keys(tmp_path: Path) -> dict[str, tuple[str, Path]]:
    """Three key pairs in the controller's directory: the operator's, a colleague's, and
    one the backups were never encrypted to."""
    return {name: key_pair(tmp_path / "keys", name) for name in ("ops", "colleague", "stranger")}


@pytest.fixture
def encrypted(
    pg: PgServers,
    controller: Controller,
    s3_server: S3Server,
    keys: dict[str, tuple[str, Path]],
) -> Controller:
    """A controller of service ``a`` (pagila loaded) that encrypts its off-site copies to
    the operator and a colleague (one per line in ENCRYPTION_RECIPIENTS_FILE)."""
    load_pagila(pg.a)
    controller.add_database("a", pg.a)
    controller.env.update(s3_server.environ(f"it-{uuid.uuid4().hex[:12]}/enc"))
    recipients = controller.workdir / "keys" / "recipients.txt"
    recipients.write_text(f"# who can restore\n{keys['ops'][0]}\n{keys['colleague'][0]}\n")
    controller.env["ENCRYPTION_RECIPIENTS_FILE"] = str(recipients)
    return controller


def prefix_of(controller: Controller, s3_server: S3Server) -> str:
    return controller.env["OFFSITE_URL"].removeprefix(f"s3://{s3_server.bucket}/")


def lose_local_backups(controller: Controller) -> None:
    for path in controller.data_dir("a").iterdir():
        if path.name != "history.jsonl":
            path.unlink()


def no_secret_key_in(run: Run, keys: dict[str, tuple[str, Path]]) -> None:
    for _, identity in keys.values():
        secret = next(
            line for line in identity.read_text().splitlines() if line.startswith("AGE-SECRET")
        )
        assert secret not in run.output, run


def test_an_encrypted_copy_is_ciphertext_off_site_and_restores_exactly_with_the_identity(
    pg: PgServers,
    encrypted: Controller,
    s3_server: S3Server,
    keys: dict[str, tuple[str, Path]],
) -> None:
    tables = table_fingerprints(pg.a)
    catalog = catalog_snapshot(pg.a)
    dumped = encrypted("dump", "a")
    [name] = encrypted.backups("a")
    local = {
        path.name: path.read_bytes()
        for path in encrypted.data_dir("a").iterdir()
        if path.name != "history.jsonl"
    }
    prefix = prefix_of(encrypted, s3_server)
    client = s3_server.client()
    stored = {
        key.rsplit("/", 1)[-1]: client.get_object(Bucket=s3_server.bucket, Key=key)
        for key in s3_server.keys(prefix)
    }
    synced = encrypted("sync", "a")
    lose_local_backups(encrypted)
    damage_pagila(pg.a)

    without_identity = encrypted("restore", "a", name, "--remote")
    encrypted.env["ENCRYPTION_IDENTITY_FILE"] = str(keys["stranger"][1])
    wrong_identity = encrypted("verify", "a", name, "--remote")
    damaged = table_fingerprints(pg.a)
    encrypted.env["ENCRYPTION_IDENTITY_FILE"] = str(keys["colleague"][1])
    restored = encrypted("restore", "a", name, "--remote", "--with-globals")
    verified = encrypted("verify", "a", "--remote", "--restore")

    assert dumped.returncode == 0, dumped
    assert sorted(stored) == sorted(local)  # the archive, the globals, their checksums
    globals_name = name.removesuffix(".dump") + ".globals.sql"
    for file in (name, globals_name):
        body = stored[file]["Body"].read()
        assert body.startswith(AGE_MAGIC), file
        assert local[file] not in body and local[file][:64] not in body, file
        metadata = stored[file]["Metadata"]
        assert metadata["encryption"] == "age", metadata
        assert metadata["sha256"] == hashlib.sha256(local[file]).hexdigest()
        assert metadata["plaintext-size"] == str(len(local[file]))
    for file in (f"{name}.sha256", f"{globals_name}.sha256"):  # digests only: kept readable
        assert stored[file]["Body"].read() == local[file]
    assert synced.stdout == "a: 0 uploaded, 1 already off-site\n", synced
    assert_one_line_error(without_identity, 2)
    assert "ENCRYPTION_IDENTITY_FILE" in without_identity.stderr, without_identity
    assert_one_line_error(wrong_identity, 2)
    assert "encrypted to other keys" in wrong_identity.stderr, wrong_identity
    assert damaged != tables
    assert restored.returncode == 0, restored
    assert table_fingerprints(pg.a) == tables
    assert catalog_snapshot(pg.a) == catalog
    assert verified.returncode == 0, verified
    assert f"a: ok {name}" in verified.stdout, verified
    assert not [p for p in encrypted.data_dir("a").iterdir() if p.name.startswith(".")]
    for run in (dumped, without_identity, wrong_identity, restored, verified):
        no_secret_key_in(run, keys)


def test_a_changed_ciphertext_fails_verify_remote_with_3_and_restores_nothing(
    pg: PgServers,
    encrypted: Controller,
    s3_server: S3Server,
    keys: dict[str, tuple[str, Path]],
) -> None:
    dumped = encrypted("dump", "a")
    [name] = encrypted.backups("a")
    key = f"{prefix_of(encrypted, s3_server)}/a/{name}"
    client = s3_server.client()
    original = client.get_object(Bucket=s3_server.bucket, Key=key)
    body = bytearray(original["Body"].read())
    body[len(body) // 2] ^= 0x01  # one flipped bit in the payload, same size, same metadata
    client.put_object(
        Bucket=s3_server.bucket, Key=key, Body=bytes(body), Metadata=original["Metadata"]
    )
    lose_local_backups(encrypted)
    damage_pagila(pg.a)
    damaged = table_fingerprints(pg.a)
    encrypted.env["ENCRYPTION_IDENTITY_FILE"] = str(keys["ops"][1])

    verified = encrypted("verify", "a", name, "--remote")
    restored = encrypted("restore", "a", name, "--remote")

    assert dumped.returncode == 0, dumped
    assert verified.returncode == 3, verified
    assert f"a: FAILED {name}" in verified.stdout, verified
    assert_one_line_error(restored, 3)
    assert "damaged or changed" in restored.stderr, restored
    assert table_fingerprints(pg.a) == damaged
    assert encrypted.backups("a") == []
    assert not [p for p in encrypted.data_dir("a").iterdir() if p.name.startswith(".")]


def test_a_recipient_age_refuses_uploads_nothing_and_keeps_the_backup(
    encrypted: Controller, s3_server: S3Server
) -> None:
    encrypted.env.pop("ENCRYPTION_RECIPIENTS_FILE")
    # The shape of an age key, but not a valid one (its checksum is wrong).
    encrypted.env["ENCRYPTION_RECIPIENTS"] = "age1" + "q" * 58

    dumped = encrypted("dump", "a")

    assert_one_line_error(dumped, 1)
    assert "ENCRYPTION_RECIPIENTS" in dumped.stderr, dumped
    assert len(encrypted.backups("a")) == 1  # kept locally
    assert [k for k in s3_server.keys(prefix_of(encrypted, s3_server)) if k.endswith(".dump")] == []


def test_a_secret_key_given_as_recipient_is_refused_without_repeating_it(
    encrypted: Controller, keys: dict[str, tuple[str, Path]]
) -> None:
    encrypted.env.pop("ENCRYPTION_RECIPIENTS_FILE")
    secret = keys["ops"][1].read_text().splitlines()[-1]
    encrypted.env["ENCRYPTION_RECIPIENTS"] = secret

    run = encrypted("dump", "a")

    assert_one_line_error(run, 2)
    assert "secret key" in run.stderr, run
    assert secret not in run.output
    assert encrypted.backups("a") == []


def test_a_large_archive_is_encrypted_streaming_in_parts_with_memory_below_a_few_parts(
    s3_server: S3Server, keys: dict[str, tuple[str, Path]], tmp_path: Path
) -> None:
    mib = 1024 * 1024
    prefix = f"it-{uuid.uuid4().hex[:12]}/enc"
    archive = tmp_path / NAME
    digest = write_random(archive, 192)
    script = s3_server.upload_script(prefix, archive, digest, (keys["ops"][0],))

    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=600, check=False
    )

    assert result.returncode == 0, result.stderr
    size, before_kib, peak_kib = (int(word) for word in result.stdout.split())
    assert size == 192 * mib
    assert (peak_kib - before_kib) * 1024 < 64 * mib, (before_kib, peak_kib)
    client = s3_server.client()
    head = client.head_object(Bucket=s3_server.bucket, Key=f"{prefix}/a/{NAME}")
    assert int(head["ETag"].strip('"').rsplit("-", 1)[1]) >= 8  # parts of 8 MiB
    ciphertext = tmp_path / "downloaded.age"
    client.download_file(s3_server.bucket, f"{prefix}/a/{NAME}", str(ciphertext))
    decrypted = subprocess.run(
        ["age", "--decrypt", "--identity", str(keys["ops"][1]), str(ciphertext)],
        capture_output=True,
        check=True,
    ).stdout
    assert hashlib.sha256(decrypted).hexdigest() == digest


@pytest.mark.parametrize("size_mib", [1, 12])  # one PUT, and parts
def test_an_archive_that_no_longer_matches_its_checksum_is_never_uploaded_encrypted(
    s3_server: S3Server, keys: dict[str, tuple[str, Path]], tmp_path: Path, size_mib: int
) -> None:
    from boto3.s3.transfer import TransferConfig

    from pg_backup_manager.domain.errors import IntegrityError
    from pg_backup_manager.domain.names import BackupName, StoredArchive

    from .s3 import connect

    prefix = f"it-{uuid.uuid4().hex[:12]}/enc"
    archive = tmp_path / NAME
    write_random(archive, size_mib)
    store = connect(
        s3_server.settings(prefix, (keys["ops"][0],)),
        transfer=TransferConfig(multipart_threshold=40 << 20, multipart_chunksize=40 << 20),
    )

    with pytest.raises(IntegrityError, match="does not match its checksum"):
        store.upload(
            "a",
            BackupName.parse(NAME),
            archive=StoredArchive(path=archive, checksum="0" * 64),
            globals=None,
        )

    assert [k for k in s3_server.keys(prefix) if k.endswith(".dump")] == []
    uploads = s3_server.client().list_multipart_uploads(Bucket=s3_server.bucket, Prefix=prefix)
    assert uploads.get("Uploads", []) == []  # the abandoned parts were aborted too


def test_a_store_lost_in_the_middle_of_an_encrypted_upload_stops_the_encryption_early(
    s3_server: S3Server,
    keys: dict[str, tuple[str, Path]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pg_backup_manager.adapters.offsite.age_cipher import AgeCipher
    from pg_backup_manager.adapters.offsite.age_stream import Ciphertext
    from pg_backup_manager.domain.errors import ControllerError
    from pg_backup_manager.domain.names import BackupName, StoredArchive

    from .s3 import connect

    streams: list[Ciphertext] = []
    encrypted = AgeCipher.encrypted

    @contextlib.contextmanager
    def watched(cipher: AgeCipher, path: Path, checksum: str) -> Iterator[Ciphertext]:
        with encrypted(cipher, path, checksum) as stream:
            streams.append(stream)
            yield stream

    monkeypatch.setattr(AgeCipher, "encrypted", watched)
    prefix = f"it-{uuid.uuid4().hex[:12]}/enc"
    archive = tmp_path / NAME
    digest = write_random(archive, 160)
    with tcp_gate(GATE_PORT, (S3_HOST, S3_PORT)) as gate:
        store = connect(s3_server.settings(prefix, (keys["ops"][0],), endpoint=gate.endpoint))
        gate.close_after_bytes = 12 * 1024 * 1024  # the store is lost in the second part

        with pytest.raises(ControllerError, match="unreachable"):
            store.upload(
                "a",
                BackupName.parse(NAME),
                archive=StoredArchive(path=archive, checksum=digest),
                globals=None,
            )

    [stream] = streams
    # Without stopping, age would have encrypted all 160 MiB for nothing.
    assert stream.sent < 80 * 1024 * 1024, stream.sent
    assert stream.tool.process.poll() is not None  # age is gone
    assert [k for k in s3_server.keys(prefix) if k.endswith(".dump")] == []
