"""The two ports of the off-site core (:mod:`.store`): a ``Bucket`` of named objects, the
only thing an off-site backend implements (S3: :mod:`.s3.bucket`; a directory:
:mod:`.file.bucket`), and a ``Cipher`` that encrypts what leaves the host (age:
:mod:`.age_cipher`).

Keys are ``/``-separated relative names chosen by the core alone (``<prefix>/<service>/
<file name>``, each segment checked); a backend never interprets them further.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol
from urllib.parse import quote

import attrs


def url_path(path: str) -> str:
    """Return ``path`` as the path of a URL: each byte but letters, digits, ``/``, ``:``
    and ``_.-~`` written ``%XX``, so a key's own ``%`` (a database's segment, ``a%2Fb``)
    is ``%25`` (``a%252Fb``) and ``urllib.parse.unquote`` gives ``path`` back."""
    return quote(path, safe="/:")


@attrs.frozen(kw_only=True)
class Content:
    """What an object holds, as recorded with it: the SHA-256 of its content and, when the
    object is that content encrypted by age, the content's size."""

    sha256: str
    encrypted: bool = False
    plain_size: int | None = None


@attrs.frozen(kw_only=True)
class StoredObject:
    """What a bucket reports of an object: its size, and what was recorded of its content
    (``sha256`` None: nothing, e.g. an object put there by hand)."""

    size: int
    sha256: str | None
    encrypted: bool = False
    plain_size: int | None = None

    def holds(self, size: int, checksum: str, *, smallest_ciphertext: int) -> bool:
        """Return whether this object holds content of ``size`` bytes and SHA-256
        ``checksum`` (encrypted: as recorded, in at least ``smallest_ciphertext`` bytes)."""
        if self.sha256 != checksum:
            return False
        if not self.encrypted:
            return self.size == size
        return self.plain_size == size and self.size >= smallest_ciphertext

    def __str__(self) -> str:
        said = f"{self.size} bytes, SHA-256 {self.sha256 or 'unknown'}"
        if self.encrypted:
            said += f", encrypted by age from {self.plain_size} bytes"
        return said


class Stream(Protocol):
    """Bytes made as they are read (a ciphertext): ``read`` raises rather than end early,
    ``sent`` counts what was read, and ``abandoned`` is set by the reader so that the
    maker stops once the reader gave up."""

    sent: int
    abandoned: Callable[[], bool]

    def read(self, size: int = -1) -> bytes:
        """Return up to ``size`` bytes (fewer only at the proven end)."""


Source = Path | bytes | Stream  # what an object is made from: a file, a few bytes, a stream


class Bucket(Protocol):
    """Objects under keys; an object, once made, is never replaced by this port."""

    def url(self, key: str) -> str:
        """Return the URL of ``key`` (``s3://bucket/key``, ``file:///dir/key``): its path
        percent-encoded (:func:`url_path`), so that unquoting it gives the key back."""

    def record_of(self, name: str) -> str:
        """Return where this bucket records what the object ``name`` holds, for people (S3:
        its user metadata ``x-amz-meta-sha256``; a directory: the file ``.<name>.meta``)."""

    def listing(self, prefix: str) -> dict[str, int]:
        """Return the size of every object directly under ``prefix`` (which ends in ``/``),
        by its name there; objects being written are not listed.

        Raises:
            ControllerError: the bucket cannot be reached or read.
        """

    def folders(self, prefix: str) -> list[str]:
        """Return the names of the folders directly under ``prefix`` (which ends in ``/``):
        what comes before the next ``/`` of the keys deeper than it.

        Raises:
            ControllerError: the bucket cannot be reached or read.
        """

    def stat(self, key: str) -> StoredObject | None:
        """Return what the bucket holds at ``key``, or None when it holds nothing there.

        Raises:
            ControllerError: the bucket cannot be reached or read.
        """

    def read(self, key: str, limit: int) -> bytes | None:
        """Return the first ``limit`` bytes of the object at ``key`` (None: it is gone).

        Raises:
            ControllerError: the bucket cannot be reached or read.
        """

    def put(self, key: str, source: Source, content: Content) -> bool:
        """Make an object at ``key`` from ``source``, recording ``content`` with it, only if
        ``key`` is free; return False (and change nothing) when an object is there. A
        partly made object is never visible at ``key``.

        Raises:
            ControllerError: the object could not be made (nothing is left at ``key``).
        """

    def get(self, key: str, target: Path) -> None:
        """Write the object at ``key`` into the file ``target``.

        Raises:
            ControllerError: the bucket cannot be read, or ``target`` written.
        """

    def delete(self, key: str) -> None:
        """Delete the object at ``key``; one already gone is not an error.

        Raises:
            ControllerError: the bucket refused or cannot be reached.
        """


class Cipher(Protocol):
    """Encrypts uploads to the recipients, decrypts downloads with the identity."""

    @property
    def encrypts(self) -> bool:
        """Return whether uploads are encrypted."""

    def encrypted(self, path: Path, checksum: str) -> AbstractContextManager[Stream]:
        """Return, for a ``with`` block, the ciphertext of the file at ``path`` (whose
        SHA-256 must be ``checksum``) as a stream made as it is read.

        Raises:
            ControllerError: the file cannot be read, or the cipher cannot start.
        """

    def smallest_ciphertext(self, plain_size: int) -> int:
        """Return a lower bound of the size of ``plain_size`` bytes encrypted."""

    def identity(self, what: str) -> str:
        """Return the identity that decrypts ``what``.

        Raises:
            ConfigurationError: there is none, or it cannot be read.
        """

    def decrypt(self, source: Path, target: Path, *, what: str) -> None:
        """Decrypt the file at ``source`` into ``target`` (``what`` names it in errors).

        Raises:
            ConfigurationError: no identity, or not one the copy was encrypted to.
            IntegrityError: the ciphertext was damaged or changed.
        """
