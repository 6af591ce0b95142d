"""Off-site copies in any bucket (:class:`~.bucket.Bucket`): the roles of the off-site
store (``OffsiteLister``, ``OffsiteUploader``, ``OffsiteDownloader``, ``OffsiteDeleter``),
whatever the backend.

Keys: ``<prefix>/<identifier>/<backup name>`` (for a database of a server,
``<prefix>/<service>/<segment>/...``: :mod:`~pg_backup_manager.domain.database_names`),
with beside it ``<name>.sha256``, ``<stem>.globals.sql`` and
``<stem>.globals.sql.sha256``, and for a partial backup ``<stem>.left-out.json`` and
``<stem>.left-out.json.sha256``. Every object is recorded with the SHA-256 of its
content; an upload counts once the bucket reports the expected size and that SHA-256.
Objects are made only where their key is free (``Bucket.put``), after a look found it
free, so nothing is ever overwritten. A listed archive is a usable copy only with its
checksum object, a ``sha256sum`` line naming the archive whose digest is the archive's
recorded SHA-256; and, when it has globals or their checksum object, both, agreeing in
the same way, and so of the note (:meth:`OffsiteCopy.judged`).

With ENCRYPTION_RECIPIENTS, the archive, the globals and the note are stored encrypted (the
``Cipher``, age), recorded as such; their recorded SHA-256 and size describe the
plaintext, which the checksum objects (never encrypted: a digest reveals nothing)
prove again after decryption.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path, PurePath

import attrs

from pg_backup_manager.adapters.offsite import judging
from pg_backup_manager.adapters.offsite.bucket import Bucket, Cipher, Content, Source, StoredObject
from pg_backup_manager.adapters.offsite.fetching import SIDECAR, download
from pg_backup_manager.domain.database_names import name_of, segments
from pg_backup_manager.domain.errors import ControllerError
from pg_backup_manager.domain.model import check_name
from pg_backup_manager.domain.names import BackupName, StoredArchive
from pg_backup_manager.domain.offsite_copies import OffsiteCopy


@attrs.frozen(kw_only=True)
class BucketOffsiteStore:
    """The backups of each database under ``<prefix>/<identifier>/`` of one bucket."""

    bucket: Bucket
    cipher: Cipher
    prefix: str = ""

    def location(self, identifier: str) -> str:
        """Return where the copies of ``identifier`` are, for people (``s3://b/p/users/``)."""
        return self.bucket.url(self._base(identifier))

    def copies(self, identifier: str) -> list[OffsiteCopy]:
        """Return the backups of ``identifier``, newest first: only names directly under its
        prefix that are backup names, each judged by what a restore needs
        (:func:`.judging.copies`)."""
        return judging.copies(self.bucket, self._base(identifier))

    def database_names(self, service: str) -> list[str]:
        """Return the names of the databases of ``service`` with a prefix here, sorted."""
        folders = self.bucket.folders(self._base(service))
        return sorted(name for folder in folders if (name := name_of(folder)) is not None)

    def with_left_out(self, identifier: str, copies: Sequence[OffsiteCopy]) -> list[OffsiteCopy]:
        """Return ``copies`` of ``identifier`` with what each partial one left out, read from
        its note (:func:`.judging.with_left_out`)."""
        return judging.with_left_out(self.bucket, self.cipher, self._base(identifier), copies)

    def holds(self, identifier: str, name: BackupName, archive: StoredArchive) -> bool:
        """Return whether the bucket holds backup ``name`` with ``archive``'s size and
        SHA-256 (one stat); raise if its key holds other content."""
        checksum = _checksum(name, archive)
        path = Path(archive.path)
        return self._present(self._base(identifier) + str(name), _size(path), checksum)

    def upload(
        self,
        identifier: str,
        name: BackupName,
        *,
        archive: StoredArchive,
        globals: StoredArchive | None,
        note: StoredArchive | None = None,
    ) -> OffsiteCopy:
        """Copy backup ``name`` and its companions, the archive last; see the port."""
        checksum = _checksum(name, archive)
        base = self._base(identifier)
        path = Path(archive.path)
        size = _size(path)
        # First: an archive key holding other content is refused before anything is sent.
        present = self._present(base + str(name), size, checksum)
        # The archive is made last: once it is there, so are its companions. Each companion
        # is made where it is missing, so a copy that lost some (by hand) is completed; none
        # is ever written over another object.
        for companion, what in ((note, name.note_name), (globals, name.globals_name)):
            if companion is not None:
                self._put_companion(base + what, companion)
        self._put_sidecar(base + str(name), checksum)
        if not present:
            self._put_file(base + str(name), path, size, checksum)
        return OffsiteCopy(
            name=name,
            size=size,
            has_globals=globals is not None,
            sha256=checksum,
            partial=note is not None,
            left_out=(),
        )

    def download(self, identifier: str, name: BackupName, into: PurePath) -> None:
        """Write backup ``name`` of ``identifier`` and its companions into the directory
        ``into``, decrypted; see :func:`.fetching.download`."""
        base = self._base(identifier)
        download(
            self.bucket, self.cipher, base=base, identifier=identifier, name=name, into=Path(into)
        )

    def delete(self, identifier: str, name: BackupName) -> None:
        """Delete backup ``name`` of ``identifier``: the archive first, then its companions
        (its checksum, its globals, its note, each with its checksum)."""
        base = self._base(identifier)
        for file_name in (str(name), name.globals_name, name.note_name):
            self.bucket.delete(base + file_name)
            self.bucket.delete(base + file_name + SIDECAR)

    def _put_companion(self, key: str, companion: StoredArchive) -> None:
        """Make ``key`` (the globals, the note) from ``companion``, then its checksum
        object, each where it is missing."""
        if companion.checksum is None:
            raise ControllerError(f"{Path(companion.path).name} has no checksum")
        path = Path(companion.path)
        self._put_file(key, path, _size(path), companion.checksum)
        self._put_sidecar(key, companion.checksum)

    def _put_sidecar(self, key: str, checksum: str) -> None:
        """Make ``<key>.sha256``, the ``sha256sum`` line of the object at ``key``."""
        sidecar = key + SIDECAR
        body = f"{checksum}  {key.rsplit('/', 1)[-1]}\n".encode()
        digest = hashlib.sha256(body).hexdigest()
        if not self._present(sidecar, len(body), digest):
            self._create(sidecar, body, len(body), Content(sha256=digest), sent=lambda: len(body))

    def _put_file(self, key: str, path: Path, size: int, checksum: str) -> None:
        """Make ``key`` from the file at ``path``, streaming; encrypted on the way when
        the cipher encrypts."""
        if self._present(key, size, checksum):
            return
        if not self.cipher.encrypts:
            self._create(key, path, size, Content(sha256=checksum), sent=lambda: size)
            return
        content = Content(sha256=checksum, encrypted=True, plain_size=size)
        with self.cipher.encrypted(path, checksum) as ciphertext:
            self._create(key, ciphertext, size, content, sent=lambda: ciphertext.sent)

    def _create(
        self, key: str, source: Source, size: int, content: Content, *, sent: Callable[[], int]
    ) -> None:
        """Make ``key`` from ``source`` where it is free, then check that the bucket reports
        it with ``size`` bytes of content of ``content.sha256``, and holds the ``sent()``
        bytes this upload sent.

        Raises:
            ControllerError: the upload failed; or what the bucket reports differs
                (an object this upload made is then deleted: it never counts).
        """
        created = self.bucket.put(key, source, content)  # False: made meanwhile by another
        found = self.bucket.stat(key)
        checksum = content.sha256
        smallest = self.cipher.smallest_ciphertext(size)
        if (
            found is not None
            and found.holds(size, checksum, smallest_ciphertext=smallest)
            and (not created or found.size == sent())
        ):
            return
        if created and found is not None:
            with contextlib.suppress(ControllerError):  # the error below says what matters
                self.bucket.delete(key)
        raise ControllerError(
            f"upload of {self.bucket.url(key)} not confirmed: the store reports "
            f"{found or 'no object'}, expected {sent()} bytes stored of {size} bytes, "
            f"SHA-256 {checksum}; the local backup is kept"
        )

    def _present(self, key: str, size: int, checksum: str) -> bool:
        """Return whether ``key`` holds this content already (False: it is free).

        Raises:
            ControllerError: it holds other content, which is never overwritten.
        """
        found: StoredObject | None = self.bucket.stat(key)
        if found is None:
            return False
        if found.holds(size, checksum, smallest_ciphertext=self.cipher.smallest_ciphertext(size)):
            return True
        raise ControllerError(
            f"{self.bucket.url(key)} exists with other content ({found}): it is never "
            "overwritten; move it away or use another OFFSITE_URL prefix"
        )

    def _base(self, identifier: str) -> str:
        # The service, then a database of a server's segment: never '..', '/' or empty.
        folder = "/".join(segments(check_name(identifier)))
        return f"{self.prefix}/{folder}/" if self.prefix else f"{folder}/"


def _checksum(name: BackupName, archive: StoredArchive) -> str:
    if archive.checksum is None:
        raise ControllerError(f"{name} has no checksum: it cannot be proven off-site")
    return archive.checksum


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError as error:
        raise ControllerError(f"cannot read {path}: {error.strerror}") from None
