"""What an off-site copy that cannot be trusted is called, with a real PostgreSQL cluster of
this host, through a real S3 server (SeaweedFS) and a directory: a corrupt copy is named
as the off-site copy (never the temporary file it was downloaded to) with the command
that lists the copies, and an unusable one in its backend's words."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from .pitr_cluster import host_cluster
from .process import Controller, assert_one_line_error
from .s3 import S3Server
from .servers import PgServer, psql, recreate_database

pytestmark = pytest.mark.integration

SERVICE = "shop"


@pytest.fixture(scope="module")
def cluster() -> Iterator[PgServer]:
    with host_cluster("offsite-messages") as host:
        yield host.server


@pytest.fixture(params=["s3", "file"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def offsite_env(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> dict[str, str]:
    if backend == "file":
        share = tmp_path / "nas" / "prod"  # a mounted share: there before the controller
        share.mkdir(mode=0o755, parents=True)
        shutil.chown(share, "postgres", "postgres")
        return {"OFFSITE_URL": f"file://{share}"}
    server: S3Server = request.getfixturevalue("s3_server")
    return server.environ(f"it-{uuid.uuid4().hex[:12]}/prod")


def flip_a_byte(
    backend: str, env: dict[str, str], request: pytest.FixtureRequest, key: str
) -> None:
    """Change one byte of the off-site object ``key`` (under the prefix), same size."""
    if backend == "file":
        path = Path(env["OFFSITE_URL"].removeprefix("file://")) / key
        body = bytearray(path.read_bytes())
        body[len(body) // 2] ^= 0xFF
        path.write_bytes(bytes(body))
        return
    server: S3Server = request.getfixturevalue("s3_server")
    full = env["OFFSITE_URL"].removeprefix(f"s3://{server.bucket}/") + "/" + key
    client = server.client()
    body = bytearray(client.get_object(Bucket=server.bucket, Key=full)["Body"].read())
    body[len(body) // 2] ^= 0xFF
    client.put_object(Bucket=server.bucket, Key=full, Body=bytes(body))


def test_a_corrupt_off_site_copy_is_named_as_the_copy_with_list_remote(
    cluster: PgServer,
    controller: Controller,
    backend: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    recreate_database(cluster, "app")
    psql(cluster, "CREATE TABLE t AS SELECT generate_series(1, 100) AS id", db="app")
    controller.add_database(SERVICE, cluster, db="app")
    env = offsite_env(backend, tmp_path, request)
    controller.env.update(env)
    assert controller("dump", SERVICE).returncode == 0
    [name] = controller.backups(SERVICE)
    flip_a_byte(backend, env, request, f"{SERVICE}/{name}")
    where = f"{env['OFFSITE_URL']}/{SERVICE}/{name}"

    restored = controller("restore", SERVICE, name, "--remote", "--no-safety-dump")
    verified = controller("verify", SERVICE, name, "--remote")
    if backend == "file":  # S3: the object put again lost its metadata; here, its record
        directory = Path(env["OFFSITE_URL"].removeprefix("file://")) / SERVICE
        (directory / f".{name}.meta").unlink()
    listed = controller("list", SERVICE, "--remote")

    assert_one_line_error(restored, 3)
    assert f"the off-site copy {where} is corrupt: its SHA-256 is " in restored.stderr, restored
    assert "its checksum object says " in restored.stderr, restored
    assert f"pick another backup ('controller list {SERVICE} --remote')" in restored.stderr
    assert ".partial" not in restored.stderr
    assert str(controller.data_dir(SERVICE)) not in restored.stderr  # the download's home
    assert verified.returncode == 3, verified
    assert f"the off-site copy {where} is corrupt" in verified.stdout, verified
    assert ".partial" not in verified.stdout
    # The copy is unusable, in its backend's words.
    record = "x-amz-meta-sha256" if backend == "s3" else f".{name}.meta"
    assert f"UNUSABLE: no SHA-256 recorded with the archive ({record})" in listed.stdout, listed
    assert backend == "s3" or "x-amz" not in listed.stdout
