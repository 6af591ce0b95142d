"""An S3-compatible object store as a :class:`~.bucket.Bucket` (boto3).

What is recorded of an object's content is its user metadata: ``x-amz-meta-sha256``,
and for a ciphertext ``x-amz-meta-encryption: age`` and ``x-amz-meta-plaintext-size``.
Objects are created with ``If-None-Match: *`` (the store refuses to replace one); a
multipart upload's object appears only at its completion, so a partial one is never
listed.

This module imports boto3: the container imports it only for the commands that go
off-site to S3.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

import attrs
import boto3
from boto3.exceptions import S3UploadFailedError
from boto3.s3.transfer import TransferConfig, create_transfer_manager
from botocore.config import Config as BotoConfig

from pg_backup_manager.adapters.offsite.age_cipher import smallest_ciphertext
from pg_backup_manager.adapters.offsite.bucket import (
    Content,
    Source,
    StoredObject,
    Stream,
    url_path,
)
from pg_backup_manager.adapters.offsite.s3.errors import S3_ERRORS, error_code, failure
from pg_backup_manager.adapters.offsite.settings import S3Settings
from pg_backup_manager.domain.errors import ControllerError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

SHA256_METADATA = "sha256"  # sent as the header x-amz-meta-sha256
ENCRYPTION_METADATA = "encryption"  # "age": the object is its content encrypted by age
PLAIN_SIZE_METADATA = "plaintext-size"  # of an encrypted object: its content's size
MIN_PART = 5 * 1024 * 1024  # S3's smallest part but the last
MAX_PARTS = 9000  # S3 allows 10,000: room for age's overhead in the estimate
STREAM_PARTS_HELD = 3  # parts of a stream (encrypted) in memory at once
_ABSENT = {"404", "NoSuchKey", "NotFound"}
_TAKEN = {"PreconditionFailed", "412", "ConditionalRequestConflict"}
# Parts are read from the file as they are sent: memory stays a few parts, whatever the
# archive's size. 64 MiB parts reach S3's 10,000-part limit at 640 GB.
TRANSFER = TransferConfig(
    multipart_threshold=64 * 1024 * 1024,
    multipart_chunksize=64 * 1024 * 1024,
    max_concurrency=4,
    preferred_transfer_client="classic",
)


def s3_bucket(settings: S3Settings, *, transfer: TransferConfig = TRANSFER) -> S3Bucket:
    """Return the bucket ``settings`` describe (no request is made yet)."""
    config = BotoConfig(
        s3={"addressing_style": "path" if settings.force_path_style else "auto"},
        retries={"mode": "standard", "max_attempts": 3},
        connect_timeout=10,
        read_timeout=120,
    )
    client = boto3.session.Session().client(
        "s3",
        endpoint_url=settings.endpoint_url,
        region_name=settings.region or "us-east-1",
        aws_access_key_id=settings.access_key_id,
        aws_secret_access_key=settings.secret_access_key,
        config=config,
    )
    # upload_file passes no condition of its own: every object is created only if its key
    # is free, the single PUT as the multipart upload's completion.
    for operation in ("PutObject", "CompleteMultipartUpload"):
        client.meta.events.register(f"before-parameter-build.s3.{operation}", _only_if_new)
    return S3Bucket(settings=settings, client=client, transfer=transfer)


def _only_if_new(params: dict[str, Any], **_: Any) -> None:
    params.setdefault("IfNoneMatch", "*")


@attrs.frozen(kw_only=True)
class S3Bucket:
    """The objects of one S3 bucket."""

    settings: S3Settings
    client: S3Client
    transfer: TransferConfig = TRANSFER

    def url(self, key: str) -> str:
        """Return ``s3://<bucket>/<key>``, the key percent-encoded (:func:`.url_path`)."""
        return f"s3://{self.settings.bucket}/{url_path(key)}"

    def record_of(self, name: str) -> str:
        """Return ``x-amz-meta-sha256``: the object's user metadata holds its SHA-256."""
        return f"x-amz-meta-{SHA256_METADATA}"

    def listing(self, prefix: str) -> dict[str, int]:
        """Return the size of every key directly under ``prefix``, by its name there."""
        found: dict[str, int] = {}
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.settings.bucket, Prefix=prefix, Delimiter="/"
            )
            for page in pages:
                for item in page.get("Contents", []):
                    found[item["Key"][len(prefix) :]] = item["Size"]
        except S3_ERRORS as error:
            raise self._failure(error, f"listing {self.url(prefix)}") from None
        return found

    def folders(self, prefix: str) -> list[str]:
        """Return the names of the folders directly under ``prefix`` (common prefixes)."""
        found: list[str] = []
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.settings.bucket, Prefix=prefix, Delimiter="/"
            )
            for page in pages:
                for item in page.get("CommonPrefixes", []):
                    found.append(item["Prefix"][len(prefix) :].removesuffix("/"))
        except S3_ERRORS as error:
            raise self._failure(error, f"listing {self.url(prefix)}") from None
        return found

    def stat(self, key: str) -> StoredObject | None:
        """Return what a HEAD of ``key`` reports, or None when it is absent."""
        try:
            head = self.client.head_object(Bucket=self.settings.bucket, Key=key)
        except S3_ERRORS as error:
            if error_code(error) in _ABSENT:
                return None
            raise self._failure(error, f"reading {self.url(key)}") from None
        metadata = head.get("Metadata", {})
        plain_size = metadata.get(PLAIN_SIZE_METADATA, "")
        return StoredObject(
            size=head["ContentLength"],
            sha256=metadata.get(SHA256_METADATA),
            encrypted=metadata.get(ENCRYPTION_METADATA) == "age",
            plain_size=int(plain_size) if plain_size.isascii() and plain_size.isdigit() else None,
        )

    def read(self, key: str, limit: int) -> bytes | None:
        """Return the first ``limit`` bytes of ``key``, or None when it is gone."""
        try:
            body = self.client.get_object(Bucket=self.settings.bucket, Key=key)["Body"].read()
        except S3_ERRORS as error:
            if error_code(error) in _ABSENT:
                return None
            raise self._failure(error, f"reading {self.url(key)}") from None
        return body[:limit]

    def put(self, key: str, source: Source, content: Content) -> bool:
        """Create ``key`` from ``source`` with ``If-None-Match: *``; False: it exists."""
        metadata = {SHA256_METADATA: content.sha256}
        if content.encrypted:
            metadata[ENCRYPTION_METADATA] = "age"
            metadata[PLAIN_SIZE_METADATA] = str(content.plain_size)
        bucket = self.settings.bucket
        try:
            if isinstance(source, bytes):
                self.client.put_object(
                    Bucket=bucket, Key=key, Body=source, Metadata=metadata, IfNoneMatch="*"
                )
            elif isinstance(source, Path):
                self.client.upload_file(
                    str(source),
                    bucket,
                    key,
                    ExtraArgs={"Metadata": metadata},
                    Config=self.transfer,
                )
            else:
                self._send_stream(source, key, metadata, content.plain_size or 0)
        except S3_ERRORS as error:
            cause = error.__context__ if isinstance(error, S3UploadFailedError) else error
            if error_code(cause) not in _TAKEN:
                raise self._failure(cause or error, f"uploading {self.url(key)}") from None
            return False  # another upload made it meanwhile: compared by the caller
        return True

    def _send_stream(self, stream: Stream, key: str, metadata: dict[str, str], size: int) -> None:
        """Upload ``stream`` to ``key`` (as ``upload_fileobj`` does), the stream giving up as
        soon as the upload failed: a part lost for good stops the making of the rest,
        which would only be thrown away."""
        with create_transfer_manager(self.client, self._streaming(size)) as manager:
            future = manager.upload(
                fileobj=cast("IO[bytes]", stream),  # read only, as a stream that cannot seek
                bucket=self.settings.bucket,
                key=key,
                extra_args={"Metadata": metadata},
            )
            stream.abandoned = future.done  # done before its end: it failed
            future.result()

    def _streaming(self, size: int) -> TransferConfig:
        """Return how to send a stream of about ``size`` bytes: a part is held in memory
        until it is sent, so parts are an eighth of a file's and only three are held."""
        part = max(
            MIN_PART,
            self.transfer.multipart_chunksize // 8,
            -(-smallest_ciphertext(size) * 1001 // 1000 // MAX_PARTS),
        )
        config = TransferConfig(
            multipart_threshold=part,
            multipart_chunksize=part,
            max_concurrency=self.transfer.max_request_concurrency,
            preferred_transfer_client="classic",
        )
        config.max_in_memory_upload_chunks = STREAM_PARTS_HELD
        return config

    def get(self, key: str, target: Path) -> None:
        """Download ``key`` into ``target``, in parts when it is large."""
        try:
            self.client.download_file(self.settings.bucket, key, str(target), Config=self.transfer)
        except S3_ERRORS as error:
            raise self._failure(error, f"downloading {self.url(key)}") from None

    def delete(self, key: str) -> None:
        """Delete ``key`` (S3 answers a deletion of a missing key with success)."""
        try:
            self.client.delete_object(Bucket=self.settings.bucket, Key=key)
        except S3_ERRORS as error:
            raise self._failure(error, f"deleting {self.url(key)}") from None

    def _failure(self, error: BaseException, doing: str) -> ControllerError:
        """Return ``error`` of the S3 client as one line for the operator, with no secret."""
        return failure(error, doing, settings=self.settings)
