"""Off-site copies in an S3-compatible object store (boto3): the OffsiteStore port.

Keys: ``<prefix>/<identifier>/<backup name>``, with beside it ``<name>.sha256``,
``<stem>.globals.sql`` and ``<stem>.globals.sql.sha256``. Every object carries
the SHA-256 of its content as user metadata (``x-amz-meta-sha256``); an upload
counts once a HEAD reports the expected size and that SHA-256. Objects are
created with ``If-None-Match: *`` (the store refuses to replace one) after a
HEAD found the key free, so nothing is ever overwritten. A listed archive is
a usable copy only with its checksum object, a ``sha256sum`` line naming the
archive whose digest is the archive's recorded SHA-256; and, when it has
globals or their checksum object, both, agreeing in the same way.

With ENCRYPTION_RECIPIENTS, the archive and the globals are stored encrypted
by age (streaming, see :mod:`age_cipher`), marked ``x-amz-meta-encryption: age``;
their ``sha256`` and ``plaintext-size`` metadata describe the plaintext, which
the checksum files (never encrypted: a digest reveals nothing) prove again
after decryption.

This module imports boto3: the container imports it only for the commands
that go off-site.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePath
from typing import IO, TYPE_CHECKING, Any, cast

import attrs
import boto3
from boto3.exceptions import S3UploadFailedError
from boto3.s3.transfer import TransferConfig, create_transfer_manager
from botocore.config import Config as BotoConfig

from pg_backup_manager.adapters.offsite.age_cipher import AgeCipher, smallest_ciphertext
from pg_backup_manager.adapters.offsite.age_stream import Ciphertext
from pg_backup_manager.adapters.offsite.s3_errors import S3_ERRORS, error_code, failure
from pg_backup_manager.adapters.offsite.settings import OffsiteSettings
from pg_backup_manager.domain.errors import (
    BackupNotFoundError,
    ConfigurationError,
    ControllerError,
    IntegrityError,
)
from pg_backup_manager.domain.model import check_identifier
from pg_backup_manager.domain.names import (
    BackupName,
    OffsiteCopy,
    StoredArchive,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

SHA256_METADATA = "sha256"  # sent as the header x-amz-meta-sha256
ENCRYPTION_METADATA = "encryption"  # "age": the object is its content encrypted by age
PLAIN_SIZE_METADATA = "plaintext-size"  # of an encrypted object: its content's size
MIN_PART = 5 * 1024 * 1024  # S3's smallest part but the last
MAX_PARTS = 9000  # S3 allows 10,000: room for age's overhead in the estimate
STREAM_PARTS_HELD = 3  # parts of a stream (encrypted) in memory at once
SIDECAR = ".sha256"
MAX_CHECKSUM_OBJECT = 4096  # a sha256sum line is about 110 bytes
JUDGED_AT_ONCE = 8  # copies whose objects are asked at once (botocore pools 10 connections)
# Parts are read from the file as they are sent: memory stays a few parts, whatever the
# archive's size. 64 MiB parts reach S3's 10,000-part limit at 640 GB.
TRANSFER = TransferConfig(
    multipart_threshold=64 * 1024 * 1024,
    multipart_chunksize=64 * 1024 * 1024,
    max_concurrency=4,
    preferred_transfer_client="classic",
)


def connect(
    settings: OffsiteSettings | None, *, transfer: TransferConfig = TRANSFER
) -> S3OffsiteStore:
    """Return the store ``settings`` describe (no request is made yet).

    Raises:
        ConfigurationError: OFFSITE_URL is not set.
    """
    if settings is None:
        raise ConfigurationError(
            "OFFSITE_URL is not set: set it to s3://<bucket>/<prefix> (and S3_ENDPOINT_URL "
            "for a service other than AWS) to keep copies off-site"
        )
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
    cipher = AgeCipher(recipients=settings.recipients, identity_file=settings.identity_file)
    return S3OffsiteStore(settings=settings, client=client, transfer=transfer, cipher=cipher)


def _only_if_new(params: dict[str, Any], **_: Any) -> None:
    params.setdefault("IfNoneMatch", "*")


@attrs.frozen(kw_only=True)
class S3OffsiteStore:
    """The backups of each database under ``<prefix>/<identifier>/`` of one bucket."""

    settings: OffsiteSettings
    client: S3Client
    transfer: TransferConfig = TRANSFER
    cipher: AgeCipher = attrs.field(factory=AgeCipher)

    def location(self, identifier: str) -> str:
        """Return ``s3://<bucket>/<prefix>/<identifier>/``."""
        return self._url(self._base(identifier))

    def copies(self, identifier: str) -> list[OffsiteCopy]:
        """Return the backups of ``identifier`` in the store, newest first: only keys
        directly under its prefix whose names are backup names, each judged by what a
        restore needs (:meth:`OffsiteCopy.judged`): a HEAD of the archive and a GET of
        its checksum object each, a few at a time."""
        base = self._base(identifier)
        listing = self._listing(base)
        archives = [
            (name, size)
            for key, size in listing.items()
            if (name := BackupName.from_text(key)) is not None
        ]
        with ThreadPoolExecutor(max_workers=JUDGED_AT_ONCE) as pool:
            found = list(pool.map(lambda item: self._judged(base, listing, *item), archives))
        return sorted(found, key=lambda copy: (copy.name.taken_at, str(copy.name)), reverse=True)

    def _listing(self, base: str) -> dict[str, int]:
        """Return the size of every key directly under ``base``, by its name there."""
        found: dict[str, int] = {}
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.settings.bucket, Prefix=base, Delimiter="/"
            )
            for page in pages:
                for item in page.get("Contents", []):
                    found[item["Key"][len(base) :]] = item["Size"]
        except S3_ERRORS as error:
            raise self._failure(error, f"listing {self._url(base)}") from None
        return found

    def _judged(
        self, base: str, listing: dict[str, int], name: BackupName, size: int
    ) -> OffsiteCopy:
        """Return the copy ``name`` judged from ``listing`` and, when its checksum object is
        listed, from the metadata of the archive and of its globals and the content of their
        checksum objects (at most two HEADs and two GETs)."""
        sha256 = line = globals_sha256 = globals_line = None
        checksum_name = str(name) + SIDECAR
        globals_checksum_name = name.globals_name + SIDECAR
        if checksum_name in listing:  # else nothing more to ask: it is unusable already
            sha256 = self._sha256_of(base + str(name))
            line = self._text_in(base + checksum_name, listing[checksum_name])
            if name.globals_name in listing:
                globals_sha256 = self._sha256_of(base + name.globals_name)
            if globals_checksum_name in listing:
                globals_line = self._text_in(
                    base + globals_checksum_name, listing[globals_checksum_name]
                )
        return OffsiteCopy.judged(
            name=name,
            size=size,
            sha256=sha256,
            checksum_line=line,
            globals_found=name.globals_name in listing,
            globals_sha256=globals_sha256,
            globals_line=globals_line,
        )

    def _sha256_of(self, key: str) -> str | None:
        """Return the SHA-256 recorded with the object at ``key`` (None: none, or it is gone)."""
        found = self._head(key)
        return found.sha256 if found is not None else None

    def _text_in(self, key: str, size: int) -> str | None:
        """Return the text of the checksum object at ``key`` (``""``: too large to be one),
        or None when it is gone."""
        if size > MAX_CHECKSUM_OBJECT:
            return ""
        try:
            body = self.client.get_object(Bucket=self.settings.bucket, Key=key)["Body"].read()
        except S3_ERRORS as error:
            if error_code(error) in {"404", "NoSuchKey", "NotFound"}:
                return None
            raise self._failure(error, f"reading {self._url(key)}") from None
        return body[:MAX_CHECKSUM_OBJECT].decode("utf-8", errors="replace")

    def holds(self, identifier: str, name: BackupName, archive: StoredArchive) -> bool:
        """Return whether the store holds backup ``name`` with ``archive``'s size and SHA-256
        (one HEAD); raise if its key holds other content."""
        if archive.checksum is None:
            raise ControllerError(f"{name} has no checksum: it cannot be proven off-site")
        path = Path(archive.path)
        return self._present(self._base(identifier) + str(name), _size(path), archive.checksum)

    def upload(
        self,
        identifier: str,
        name: BackupName,
        *,
        archive: StoredArchive,
        globals: StoredArchive | None,
    ) -> OffsiteCopy:
        """Copy backup ``name`` and its companions, the archive last; see the port."""
        if archive.checksum is None:
            raise ControllerError(f"{name} has no checksum: it cannot be proven off-site")
        base = self._base(identifier)
        path = Path(archive.path)
        size = _size(path)
        # First: an archive key holding other content is refused before anything is sent.
        present = self._present(base + str(name), size, archive.checksum)
        # The archive is created last: once it is there, so are its companions. Each
        # companion is created where it is missing, so a copy that lost some (by hand) is
        # completed; none is ever written over another object.
        if globals is not None:
            if globals.checksum is None:
                raise ControllerError(f"the globals of {name} have no checksum")
            globals_path = Path(globals.path)
            self._put_file(
                base + name.globals_name, globals_path, _size(globals_path), globals.checksum
            )
            self._put_sidecar(base + name.globals_name, globals.checksum)
        self._put_sidecar(base + str(name), archive.checksum)
        if not present:
            self._put_file(base + str(name), path, size, archive.checksum)
        return OffsiteCopy(
            name=name, size=size, has_globals=globals is not None, sha256=archive.checksum
        )

    def download(self, identifier: str, name: BackupName, into: PurePath) -> None:
        """Write backup ``name`` of ``identifier`` and its companions into the directory
        ``into``, under their own names (the globals only if the store has them), streaming.

        Raises:
            BackupNotFoundError: the store has no such backup.
            IntegrityError: the store has the backup but not its checksum.
            ControllerError: the store cannot be reached, or a file cannot be written.
        """
        base = self._base(identifier)
        directory = Path(into)
        # Listed first: a HEAD's answer has no body, so a missing bucket is a bare 404 and
        # refused credentials a bare 403; a listing's error says which.
        if str(name) not in self._listing(base):
            raise BackupNotFoundError(
                f"no off-site copy {name} of {identifier} in {self._url(base)}: see "
                f"'controller list {identifier} --remote'"
            )
        if self._head(base + str(name) + SIDECAR) is None:
            raise IntegrityError(
                f"{self._url(base + str(name))} has no checksum off-site "
                f"({name}{SIDECAR}): nothing proves its content; it is not used"
            )
        archive = self._head(base + str(name))
        globals_found = self._head(base + name.globals_name)
        if any(found is not None and found.encrypted for found in (archive, globals_found)):
            self.cipher.identity(self._url(base + str(name)))  # before any byte is fetched
        wanted = [(str(name) + SIDECAR, None), (str(name), archive)]
        if globals_found is not None:
            wanted += [(name.globals_name + SIDECAR, None), (name.globals_name, globals_found)]
        for key_name, found in wanted:
            if found is not None and found.encrypted:
                self._fetch_encrypted(base + key_name, directory, key_name)
            else:
                self._fetch(base + key_name, directory / key_name)

    def _fetch(self, key: str, target: Path) -> None:
        try:
            self.client.download_file(self.settings.bucket, key, str(target), Config=self.transfer)
        except S3_ERRORS as error:
            raise self._failure(error, f"downloading {self._url(key)}") from None

    def _fetch_encrypted(self, key: str, directory: Path, key_name: str) -> None:
        """Download ``key``'s ciphertext beside its target, decrypt it into ``key_name``,
        and remove the ciphertext."""
        ciphertext = directory / f".{key_name}.age"
        try:
            self._fetch(key, ciphertext)
            self.cipher.decrypt(ciphertext, directory / key_name, what=self._url(key))
        finally:
            ciphertext.unlink(missing_ok=True)

    def delete(self, identifier: str, name: BackupName) -> None:
        """Delete backup ``name`` of ``identifier``: the archive first, then its companions."""
        base = self._base(identifier)
        stem = base + name.globals_name
        for key in (base + str(name), base + str(name) + SIDECAR, stem, stem + SIDECAR):
            try:
                self.client.delete_object(Bucket=self.settings.bucket, Key=key)
            except S3_ERRORS as error:
                raise self._failure(error, f"deleting {self._url(key)}") from None

    def _put_sidecar(self, key: str, checksum: str) -> None:
        """Create ``<key>.sha256``, the ``sha256sum`` line of the object at ``key``."""
        sidecar = key + SIDECAR
        body = f"{checksum}  {key.rsplit('/', 1)[-1]}\n".encode()
        digest = hashlib.sha256(body).hexdigest()
        if self._present(sidecar, len(body), digest):
            return
        self._create(
            sidecar,
            len(body),
            digest,
            lambda: self.client.put_object(
                Bucket=self.settings.bucket,
                Key=sidecar,
                Body=body,
                Metadata={SHA256_METADATA: digest},
                IfNoneMatch="*",
            ),
            sent=lambda: len(body),
        )

    def _put_file(self, key: str, path: Path, size: int, checksum: str) -> None:
        """Create ``key`` from the file at ``path``, streaming, in parts when it is large;
        encrypted on the way when ENCRYPTION_RECIPIENTS is set."""
        if self._present(key, size, checksum):
            return
        if not self.cipher.encrypts:
            self._create(
                key,
                size,
                checksum,
                lambda: self.client.upload_file(
                    str(path),
                    self.settings.bucket,
                    key,
                    ExtraArgs={"Metadata": {SHA256_METADATA: checksum}},
                    Config=self.transfer,
                ),
                sent=lambda: size,
            )
            return
        metadata = {
            SHA256_METADATA: checksum,
            ENCRYPTION_METADATA: "age",
            PLAIN_SIZE_METADATA: str(size),
        }
        with self.cipher.encrypted(path, checksum) as ciphertext:
            self._create(
                key,
                size,
                checksum,
                lambda: self._send_stream(ciphertext, key, metadata, size),
                sent=lambda: ciphertext.sent,
            )

    def _send_stream(
        self, ciphertext: Ciphertext, key: str, metadata: dict[str, str], size: int
    ) -> None:
        """Upload ``ciphertext`` to ``key`` (as ``upload_fileobj`` does), the stream giving
        up as soon as the upload failed: a part lost for good stops the encryption of the
        rest, which would only be thrown away."""
        with create_transfer_manager(self.client, self._streaming(size)) as manager:
            future = manager.upload(
                fileobj=cast("IO[bytes]", ciphertext),  # read only, as a stream that cannot seek
                bucket=self.settings.bucket,
                key=key,
                extra_args={"Metadata": metadata},
            )
            ciphertext.abandoned = future.done  # done before its end: it failed
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

    def _create(
        self,
        key: str,
        size: int,
        checksum: str,
        put: Callable[[], object],
        *,
        sent: Callable[[], int],
    ) -> None:
        """Create ``key`` with ``put`` (which sends ``If-None-Match: *``), then check that the
        store reports it with ``size`` bytes of content of ``checksum``, and stores the
        ``sent()`` bytes ``put`` sent.

        Raises:
            ControllerError: the upload failed; or what the store reports differs
                (an object this upload made is then deleted: it never counts).
        """
        try:
            put()
            created = True
        except S3_ERRORS as error:
            cause = error.__context__ if isinstance(error, S3UploadFailedError) else error
            if error_code(cause) not in {"PreconditionFailed", "412", "ConditionalRequestConflict"}:
                raise self._failure(cause or error, f"uploading {self._url(key)}") from None
            created = False  # another upload made it meanwhile: compared below, never replaced
        found = self._head(key)
        # What this upload created must hold every byte it sent (a stream has no size before).
        if (
            found is not None
            and found.holds(size, checksum)
            and (not created or found.size == sent())
        ):
            return
        if created and found is not None:
            with contextlib.suppress(*S3_ERRORS):  # the error below says what matters
                self.client.delete_object(Bucket=self.settings.bucket, Key=key)
        raise ControllerError(
            f"upload of {self._url(key)} not confirmed: the store reports "
            f"{found or 'no object'}, expected {sent()} bytes stored of {size} bytes, "
            f"SHA-256 {checksum}; the local backup is kept"
        )

    def _present(self, key: str, size: int, checksum: str) -> bool:
        """Return whether ``key`` holds this content already (False: it is free).

        Raises:
            ControllerError: it holds other content, which is never overwritten.
        """
        found = self._head(key)
        if found is None:
            return False
        if found.holds(size, checksum):
            return True
        raise ControllerError(
            f"{self._url(key)} exists with other content ({found}): it is never "
            "overwritten; move it away or use another OFFSITE_URL prefix"
        )

    def _head(self, key: str) -> StoredObject | None:
        """Return what the store says of ``key``, or None when it is absent."""
        try:
            head = self.client.head_object(Bucket=self.settings.bucket, Key=key)
        except S3_ERRORS as error:
            if error_code(error) in {"404", "NoSuchKey", "NotFound"}:
                return None
            raise self._failure(error, f"reading {self._url(key)}") from None
        metadata = head.get("Metadata", {})
        plain_size = metadata.get(PLAIN_SIZE_METADATA, "")
        return StoredObject(
            size=head["ContentLength"],
            sha256=metadata.get(SHA256_METADATA),
            encrypted=metadata.get(ENCRYPTION_METADATA) == "age",
            plain_size=int(plain_size) if plain_size.isascii() and plain_size.isdigit() else None,
        )

    def _base(self, identifier: str) -> str:
        service = check_identifier(identifier)  # one path segment: never '..' or '/'
        return f"{self.settings.prefix}/{service}/" if self.settings.prefix else f"{service}/"

    def _url(self, key: str) -> str:
        return f"s3://{self.settings.bucket}/{key}"

    def _failure(self, error: BaseException, doing: str) -> ControllerError:
        """Return ``error`` of the S3 client as one line for the operator, with no secret."""
        return failure(error, doing, settings=self.settings)


@attrs.frozen(kw_only=True)
class StoredObject:
    """What a HEAD reports of an object: its size, and the metadata of its content."""

    size: int
    sha256: str | None
    encrypted: bool = False
    plain_size: int | None = None

    def holds(self, size: int, checksum: str) -> bool:
        """Return whether this object holds content of ``size`` bytes and SHA-256
        ``checksum`` (encrypted: as its metadata says, in a ciphertext long enough)."""
        if self.sha256 != checksum:
            return False
        if not self.encrypted:
            return self.size == size
        return self.plain_size == size and self.size >= smallest_ciphertext(size)

    def __str__(self) -> str:
        said = f"{self.size} bytes, SHA-256 {self.sha256 or 'unknown'}"
        if self.encrypted:
            said += f", encrypted by age from {self.plain_size} bytes"
        return said


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError as error:
        raise ControllerError(f"cannot read {path}: {error.strerror}") from None
