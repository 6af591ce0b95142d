"""Off-site copies against a real S3 server (SeaweedFS with authentication): ``sync``
uploads what is missing, once; ``list --remote`` shows exactly this database's copies;
every fault is one line and its exit code, with no credential in the output."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from pg_backup_manager.domain.names import BackupName

from .process import Controller, Run, assert_one_line_error, python_as_controller
from .s3 import DEAD_ENDPOINT, S3Server, write_random
from .servers import PgServers, psql

pytestmark = pytest.mark.integration

OLD = "file_monthly_2024-06-01T03:00:00Z.dump"
MIDDLE = "file_weekly_2024-06-29T03:00:00Z.dump"
NEW = "file_daily_2024-07-03T03:00:00Z.dump"


def plant_backup(controller: Controller, ident: str, name: str, content: bytes) -> None:
    """A committed backup as a dump leaves it: the archive, its globals, their checksums."""
    directory = controller.data_dir(ident)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    globals_name = BackupName.parse(name).globals_name
    for file, data in ((globals_name, b"CREATE ROLE app;\n" + content[:8]), (name, content)):
        (directory / file).write_bytes(data)
        digest = hashlib.sha256(data).hexdigest()
        (directory / f"{file}.sha256").write_text(f"{digest}  {file}\n")


def local_files(controller: Controller, ident: str) -> dict[str, str]:
    directory = controller.data_dir(ident)
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(directory.iterdir())
        if path.name != "history.jsonl"
    }


@pytest.fixture
def prefix() -> str:
    """A prefix of this test's own in the shared bucket."""
    return f"it-{uuid.uuid4().hex[:12]}/prod"


@pytest.fixture
def offsite(controller: Controller, s3_server: S3Server, prefix: str) -> Controller:
    """A controller of services ``a`` and ``b`` that keeps its off-site copies under ``prefix``."""
    controller.env["DATABASE_LIST"] = "a,b"
    controller.env.update(s3_server.environ(prefix))
    return controller


def run_offsite(controller: Controller, *args: str) -> Run:
    """Runs the controller; no S3 secret may reach its output either."""
    run = controller(*args)
    for name in ("AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID"):
        value = controller.env.get(name, "")
        assert not value or value not in run.output, f"{name}'s value is in the output\n{run}"
    return run


def test_sync_uploads_every_local_backup_with_its_companions_and_checksum(
    offsite: Controller, s3_server: S3Server, prefix: str
) -> None:
    plant_backup(offsite, "a", OLD, os.urandom(3000))
    plant_backup(offsite, "a", NEW, os.urandom(5000))
    before = local_files(offsite, "a")

    run = run_offsite(offsite, "sync", "a")

    assert run.returncode == 0, run
    assert run.stdout.splitlines()[:2] == [
        "a: uploaded file_monthly_2024-06-01T03:00:00Z.dump (2.9 KiB)",
        "a: uploaded file_daily_2024-07-03T03:00:00Z.dump (4.9 KiB)",
    ]
    assert s3_server.keys(prefix) == sorted(f"{prefix}/a/{name}" for name in before)
    client = s3_server.client()
    for name, digest in before.items():
        key = f"{prefix}/a/{name}"
        body = client.get_object(Bucket=s3_server.bucket, Key=key)["Body"].read()
        assert hashlib.sha256(body).hexdigest() == digest, key
        head = client.head_object(Bucket=s3_server.bucket, Key=key)
        assert head["Metadata"]["sha256"] == digest, key
    assert local_files(offsite, "a") == before


def test_a_second_sync_uploads_nothing_and_a_new_backup_alone(
    offsite: Controller, s3_server: S3Server, prefix: str
) -> None:
    plant_backup(offsite, "a", OLD, os.urandom(1000))
    run_offsite(offsite, "sync", "a")
    client = s3_server.client()
    old_key = f"{prefix}/a/{OLD}"
    etag = client.head_object(Bucket=s3_server.bucket, Key=old_key)["ETag"]

    again = run_offsite(offsite, "sync", "a")
    plant_backup(offsite, "a", NEW, os.urandom(1000))
    after_new = run_offsite(offsite, "sync", "--all")

    assert again.returncode == 0, again
    assert again.stdout == "a: 0 uploaded, 1 already off-site\n"
    assert after_new.returncode == 0, after_new
    assert after_new.stdout.splitlines() == [
        f"a: uploaded {NEW} (1000 B)",
        "a: 1 uploaded, 1 already off-site",
        "b: 0 uploaded, 0 already off-site",
    ]
    assert client.head_object(Bucket=s3_server.bucket, Key=old_key)["ETag"] == etag


def test_a_multipart_upload_streams_the_archive_and_is_checked(
    s3_server: S3Server, prefix: str, tmp_path: Path
) -> None:
    from boto3.s3.transfer import TransferConfig

    from pg_backup_manager.domain.names import StoredArchive

    from .s3 import connect

    mib = 1024 * 1024
    store = connect(
        s3_server.settings(prefix),
        transfer=TransferConfig(multipart_threshold=5 * mib, multipart_chunksize=5 * mib),
    )
    archive = tmp_path / OLD
    archive.write_bytes(os.urandom(12 * mib + 17))  # three parts
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()

    copy = store.upload(
        "a",
        BackupName.parse(OLD),
        archive=StoredArchive(path=archive, checksum=digest),
        globals=None,
    )

    assert (copy.size, copy.sha256) == (12 * mib + 17, digest)
    client = s3_server.client()
    head = client.head_object(Bucket=s3_server.bucket, Key=f"{prefix}/a/{OLD}")
    assert head["ETag"].strip('"').endswith("-3")  # made of parts
    body = client.get_object(Bucket=s3_server.bucket, Key=f"{prefix}/a/{OLD}")["Body"].read()
    assert hashlib.sha256(body).hexdigest() == digest
    assert [str(c.name) for c in store.copies("a")] == [OLD]


def test_an_object_with_other_content_is_never_overwritten(
    offsite: Controller, s3_server: S3Server, prefix: str
) -> None:
    plant_backup(offsite, "a", OLD, os.urandom(1000))
    key = f"{prefix}/a/{OLD}"
    s3_server.client().put_object(Bucket=s3_server.bucket, Key=key, Body=b"someone else's")

    run = run_offsite(offsite, "sync", "a")

    assert_one_line_error(run, 1)
    assert "never overwritten" in run.stderr, run
    body = s3_server.client().get_object(Bucket=s3_server.bucket, Key=key)["Body"].read()
    assert body == b"someone else's"


def test_list_remote_shows_only_this_services_backups_under_this_prefix(
    offsite: Controller, s3_server: S3Server, prefix: str
) -> None:
    plant_backup(offsite, "a", OLD, os.urandom(1000))
    plant_backup(offsite, "a", NEW, os.urandom(2000))
    assert run_offsite(offsite, "sync", "a").returncode == 0
    client = s3_server.client()
    top = prefix.split("/")[0]
    foreign = [
        f"{top}/other/a/{MIDDLE}",  # another controller's prefix
        f"{prefix}/b/{MIDDLE}",  # another service
        f"{prefix}/a-2/{MIDDLE}",  # a service whose name starts like this one's
        f"{prefix}/a/sub/{MIDDLE}",  # deeper than this service's prefix
        f"{prefix}/a/notes.txt",
        f"{prefix}/a/{MIDDLE}.partial",
        f"{prefix}/a{MIDDLE}",
    ]
    for key in foreign:
        client.put_object(Bucket=s3_server.bucket, Key=key, Body=b"not ours")

    text = run_offsite(offsite, "list", "a", "--remote")
    document = run_offsite(offsite, "list", "a", "--remote", "--json")

    assert text.returncode == 0, text
    assert [line.split()[0] for line in text.stdout.splitlines()[1:]] == [NEW, OLD]
    assert text.stdout.splitlines()[1].split()[-1] == BackupName.parse(NEW).globals_name
    assert document.returncode == 0, document
    entries = json.loads(document.stdout)["backups"]
    assert [(e["database"], e["name"], e["size_bytes"]) for e in entries] == [
        ("a", NEW, 2000),
        ("a", OLD, 1000),
    ]
    assert entries[0]["location"] == f"s3://{s3_server.bucket}/{prefix}/a/{NEW}"
    for key in foreign:  # nothing of others was touched
        assert client.get_object(Bucket=s3_server.bucket, Key=key)["Body"].read() == b"not ours"


def test_list_remote_of_a_service_without_copies_says_where_it_looked(
    offsite: Controller, s3_server: S3Server, prefix: str
) -> None:
    run = run_offsite(offsite, "list", "b", "--remote")

    assert run.returncode == 0, run
    assert run.stdout == f"no off-site copies of b in s3://{s3_server.bucket}/{prefix}/b/\n"


@pytest.mark.parametrize(
    ("fault", "code", "said"),
    [
        ({"AWS_SECRET_ACCESS_KEY": "not-the-secret-9d2c"}, 1, "refused the credentials"),
        ({"AWS_ACCESS_KEY_ID": "no-such-key-id-77"}, 1, "refused the credentials"),
        ({"OFFSITE_URL": "s3://no-such-bucket-it/prod"}, 1, "has no bucket 'no-such-bucket-it'"),
        ({"S3_ENDPOINT_URL": DEAD_ENDPOINT}, 1, "unreachable"),
        ({"OFFSITE_URL": "s3:/offsite-it/prod"}, 2, "OFFSITE_URL must look like"),
        ({"OFFSITE_URL": "s3://key:secret@offsite-it/prod"}, 2, "must not hold credentials"),
    ],
    ids=[
        "wrong-secret",
        "unknown-key",
        "missing-bucket",
        "unreachable",
        "malformed-url",
        "url-with-credentials",
    ],
)
@pytest.mark.parametrize(
    "command",
    [
        ("sync", "a"),
        ("list", "a", "--remote"),
        ("restore", "a", OLD, "--remote"),
        ("verify", "a", OLD, "--remote"),
        ("prune", "a", "--remote"),
    ],
    ids=["sync", "list", "restore", "verify", "prune"],
)
def test_each_fault_is_one_line_with_its_exit_code_and_keeps_the_local_backups(
    offsite: Controller,
    s3_server: S3Server,
    prefix: str,
    fault: dict[str, str],
    code: int,
    said: str,
    command: tuple[str, ...],
) -> None:
    plant_backup(offsite, "a", OLD, os.urandom(1000))
    before = local_files(offsite, "a")
    offsite.env.update(fault)

    run = run_offsite(offsite, *command)

    assert_one_line_error(run, code)
    assert said in run.stderr, run
    assert "secret" not in run.output.replace("AWS_SECRET_ACCESS_KEY", ""), run
    assert local_files(offsite, "a") == before
    assert s3_server.keys(prefix) == []


def test_list_and_help_never_import_the_s3_client(offsite: Controller) -> None:
    script = (
        "import sys\n"
        "from pg_backup_manager.entrypoints.main import main\n"
        "codes = [main(['list', 'a']), main(['--help']), main(['sync', '--help'])]\n"
        "print(codes, 'boto3' in sys.modules, 'botocore' in sys.modules)\n"
    )

    result = python_as_controller(offsite, script)

    assert result.stdout.splitlines()[-1] == "[0, 0, 0] False False", result


def test_a_real_dump_goes_off_site_and_comes_back_byte_for_byte(
    pg: PgServers, offsite: Controller, s3_server: S3Server, prefix: str
) -> None:
    psql(pg.a, "CREATE TABLE kept AS SELECT generate_series(1, 1000) AS id;")
    offsite.add_database("a", pg.a)
    offsite.env["DATABASE_LIST"] = "a"
    dumped = offsite("dump", "a")
    assert dumped.returncode == 0, dumped
    [name] = [n for n in offsite.backups("a")]
    local = (offsite.data_dir("a") / name).read_bytes()

    run = run_offsite(offsite, "sync", "a")

    assert run.returncode == 0, run
    body = (
        s3_server.client()
        .get_object(Bucket=s3_server.bucket, Key=f"{prefix}/a/{name}")["Body"]
        .read()
    )
    assert body == local
    listed = run_offsite(offsite, "list", "a", "--remote")
    assert listed.stdout.splitlines()[1].split()[0] == name


def test_the_stores_client_never_replaces_an_object_in_one_put_or_in_parts(
    s3_server: S3Server, prefix: str, tmp_path: Path
) -> None:
    from boto3.exceptions import S3UploadFailedError
    from boto3.s3.transfer import TransferConfig
    from botocore.exceptions import ClientError

    from .s3 import connect

    store = connect(s3_server.settings(prefix))
    key = f"{prefix}/a/{OLD}"
    s3_server.client().put_object(Bucket=s3_server.bucket, Key=key, Body=b"first")
    big = tmp_path / "big"
    big.write_bytes(os.urandom(11 * 1024 * 1024))
    parts = TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024)

    with pytest.raises(ClientError) as single:
        store.bucket.client.put_object(Bucket=s3_server.bucket, Key=key, Body=b"second")  # type: ignore[attr-defined]
    with pytest.raises(S3UploadFailedError) as multipart:
        store.bucket.client.upload_file(str(big), s3_server.bucket, key, Config=parts)  # type: ignore[attr-defined]

    assert single.value.response["Error"]["Code"] == "PreconditionFailed"
    assert "PreconditionFailed" in str(multipart.value)
    body = s3_server.client().get_object(Bucket=s3_server.bucket, Key=key)["Body"].read()
    assert body == b"first"


def test_an_interrupted_upload_is_never_listed_and_the_next_sync_completes_it(
    offsite: Controller, s3_server: S3Server, prefix: str
) -> None:
    plant_backup(offsite, "a", OLD, os.urandom(1000))
    archive = offsite.data_dir("a") / OLD
    archive.chmod(0o000)  # its companions go up, then reading the archive fails
    before = local_files(offsite, "a")  # this test runs as root: reads it all the same

    failed = run_offsite(offsite, "sync", "a")
    listed_after_failure = run_offsite(offsite, "list", "a", "--remote")
    keys_after_failure = s3_server.keys(prefix)
    archive.chmod(0o600)
    completed = run_offsite(offsite, "sync", "a")

    assert_one_line_error(failed, 1)
    assert "1 backup(s) not off-site, kept locally" in failed.stderr, failed
    assert f"{prefix}/a/{OLD}" not in keys_after_failure
    assert f"{prefix}/a/{OLD}.sha256" in keys_after_failure
    assert listed_after_failure.stdout.startswith("no off-site copies of a"), listed_after_failure
    assert completed.returncode == 0, completed
    assert completed.stdout.splitlines()[-1] == "a: 1 uploaded, 0 already off-site"
    assert f"{prefix}/a/{OLD}" in s3_server.keys(prefix)
    assert local_files(offsite, "a") == before


def test_uploading_a_large_archive_keeps_memory_below_a_part(
    s3_server: S3Server, prefix: str, tmp_path: Path
) -> None:
    mib = 1024 * 1024
    archive = tmp_path / OLD
    digest = write_random(archive, 192)  # three parts of the production transfer settings
    script = s3_server.upload_script(prefix, archive, digest)

    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=600, check=False
    )

    assert result.returncode == 0, result.stderr
    size, before_kib, peak_kib = (int(word) for word in result.stdout.split())
    assert size == 192 * mib
    assert (peak_kib - before_kib) * 1024 < 48 * mib, (before_kib, peak_kib)
    assert s3_server.keys(prefix) == [f"{prefix}/a/{OLD}", f"{prefix}/a/{OLD}.sha256"]


def test_restore_remote_of_a_backup_not_off_site_says_so_and_leaves_nothing(
    offsite: Controller, s3_server: S3Server, prefix: str
) -> None:
    plant_backup(offsite, "a", OLD, os.urandom(1000))  # local only
    before = local_files(offsite, "a")

    run = run_offsite(offsite, "restore", "a", OLD, "--remote")

    assert_one_line_error(run, 1)
    assert f"no off-site copy {OLD} of a in s3://{s3_server.bucket}/{prefix}/a/" in run.stderr
    assert local_files(offsite, "a") == before
    assert not [p for p in offsite.data_dir("a").iterdir() if p.name.startswith(".")]
