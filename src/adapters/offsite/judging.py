"""The copies in a bucket, each judged by what a restore needs (see
:class:`~.store.BucketOffsiteStore`), and what the partial ones left out, read from their
notes for ``list --remote``."""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import attrs

from pg_backup_manager.adapters.offsite.bucket import Bucket, Cipher
from pg_backup_manager.adapters.offsite.fetching import SIDECAR
from pg_backup_manager.adapters.storage import left_out as notes
from pg_backup_manager.domain.errors import ControllerError
from pg_backup_manager.domain.names import BackupName
from pg_backup_manager.domain.offsite_copies import OffsiteCopy

MAX_CHECKSUM_OBJECT = 4096  # a sha256sum line is about 110 bytes
JUDGED_AT_ONCE = 8  # copies whose objects are asked at once (botocore pools 10 connections)
_AGE_OVERHEAD = 4096  # an age header for a few recipients, and its tags
_Item = TypeVar("_Item")
_Result = TypeVar("_Result")


def copies(bucket: Bucket, base: str) -> list[OffsiteCopy]:
    """Return the backups under the key prefix ``base``, newest first: only names directly
    under it that are backup names, each judged by what a restore needs (a stat of the
    archive and a read of its checksum object each, and as much of each companion, a few
    copies at a time)."""
    listing = bucket.listing(base)
    archives = [
        (name, size)
        for key, size in listing.items()
        if (name := BackupName.from_text(key)) is not None
    ]
    found = _at_once(lambda item: _judged(bucket, base, listing, *item), archives)
    return sorted(found, key=lambda copy: (copy.name.taken_at, str(copy.name)), reverse=True)


def _judged(
    bucket: Bucket, base: str, listing: dict[str, int], name: BackupName, size: int
) -> OffsiteCopy:
    """Return the copy ``name`` judged from ``listing`` and, when its checksum object is
    listed, from what is recorded of the archive and of its companions and the text of
    their checksum objects."""
    sha256 = line = None
    said: dict[str, tuple[str | None, str | None]] = {}  # companion: (SHA-256, its line)
    if str(name) + SIDECAR in listing:  # else nothing more to ask: it is unusable already
        sha256 = _sha256_of(bucket, base + str(name))
        line = _text_in(bucket, base, listing, str(name) + SIDECAR)
        for companion in (name.globals_name, name.note_name):
            recorded = _sha256_of(bucket, base + companion) if companion in listing else None
            said[companion] = (recorded, _text_in(bucket, base, listing, companion + SIDECAR))
    globals_sha256, globals_line = said.get(name.globals_name, (None, None))
    note_sha256, note_line = said.get(name.note_name, (None, None))
    return OffsiteCopy.judged(
        name=name,
        size=size,
        sha256=sha256,
        checksum_line=line,
        globals_found=name.globals_name in listing,
        globals_sha256=globals_sha256,
        globals_line=globals_line,
        note_found=name.note_name in listing,
        note_sha256=note_sha256,
        note_line=note_line,
        record_of=bucket.record_of,
    )


def _sha256_of(bucket: Bucket, key: str) -> str | None:
    found = bucket.stat(key)
    return found.sha256 if found is not None else None


def _text_in(bucket: Bucket, base: str, listing: dict[str, int], name: str) -> str | None:
    """Return the text of the checksum object ``name`` (``""``: too large to be one), or
    None when it is not listed or is gone."""
    if name not in listing:
        return None
    if listing[name] > MAX_CHECKSUM_OBJECT:
        return ""
    body = bucket.read(base + name, MAX_CHECKSUM_OBJECT)
    return None if body is None else body.decode("utf-8", errors="replace")


def with_left_out(
    bucket: Bucket, cipher: Cipher, base: str, found: Sequence[OffsiteCopy]
) -> list[OffsiteCopy]:
    """Return ``found`` with what each usable partial copy left out, read from its note
    (decrypted when it was encrypted and ``cipher`` has an identity) and proven by the
    SHA-256 recorded with it; a note that cannot be read or proven leaves it unknown."""
    return _at_once(lambda copy: _read_left_out(bucket, cipher, base, copy), found)


def _read_left_out(bucket: Bucket, cipher: Cipher, base: str, copy: OffsiteCopy) -> OffsiteCopy:
    if not copy.partial or not copy.usable:
        return copy
    key = base + copy.name.note_name
    try:
        found = bucket.stat(key)
        if found is None or found.sha256 is None or found.size > notes.MAX_BYTES + _AGE_OVERHEAD:
            return copy
        data = _decrypted(bucket, cipher, key) if found.encrypted else bucket.read(key, found.size)
    except (ControllerError, OSError):  # unreachable, no identity, not age's: unknown
        return copy
    if data is None or hashlib.sha256(data).hexdigest() != found.sha256:
        return copy
    return attrs.evolve(copy, left_out=notes.parsed(data))


def _decrypted(bucket: Bucket, cipher: Cipher, key: str) -> bytes:
    """Return the plaintext of the small encrypted object at ``key``, decrypted in a
    private temporary directory that is removed at once.

    Raises:
        ControllerError: no identity, or one the note was not encrypted to; a damaged
            note; the bucket cannot be read. OSError: no temporary directory.
    """
    what = bucket.url(key)
    cipher.identity(what)  # before anything is fetched
    with tempfile.TemporaryDirectory(prefix="pgbm-note-") as directory:
        ciphertext, plaintext = Path(directory) / "note.age", Path(directory) / "note.json"
        bucket.get(key, ciphertext)
        cipher.decrypt(ciphertext, plaintext, what=what)
        with plaintext.open("rb") as source:
            return source.read(notes.MAX_BYTES + 1)


def _at_once(work: Callable[[_Item], _Result], items: Sequence[_Item]) -> list[_Result]:
    """Return ``work`` of each of ``items``, in order, a few at a time."""
    with ThreadPoolExecutor(max_workers=JUDGED_AT_ONCE) as pool:
        return list(pool.map(work, items))
