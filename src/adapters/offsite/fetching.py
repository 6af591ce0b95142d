"""Off-site copies brought back: the download of one copy from a bucket, decrypted
(see :class:`~.store.BucketOffsiteStore`)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from pg_backup_manager.adapters.offsite.bucket import Bucket, Cipher
from pg_backup_manager.adapters.storage.files import read_checksum
from pg_backup_manager.domain.errors import BackupNotFoundError, IntegrityError
from pg_backup_manager.domain.names import BackupName

SIDECAR = ".sha256"


def download(
    bucket: Bucket, cipher: Cipher, *, base: str, identifier: str, name: BackupName, into: Path
) -> None:
    """Write backup ``name`` of ``identifier`` (under the key prefix ``base``) and its
    companions into the directory ``into``, under their own names (the globals and the note
    of what it left out only if the bucket has them), decrypted; the note is checked
    against its checksum object here (the tools check the others).

    Raises:
        BackupNotFoundError: the bucket has no such backup.
        IntegrityError: the bucket has the backup but not its checksum; or its note without
            its checksum object, or the other way round, or a note that does not match it.
        ControllerError: the bucket cannot be reached, or a file cannot be written.
    """
    # Listed first: a listing's error says more than a stat's (S3: a bare 404 or 403).
    listing = bucket.listing(base)
    if str(name) not in listing:
        raise BackupNotFoundError(
            f"no off-site copy {name} of {identifier} in {bucket.url(base)}: see "
            f"'controller list {identifier} --remote'"
        )
    if bucket.stat(base + str(name) + SIDECAR) is None:
        raise IntegrityError(
            f"{bucket.url(base + str(name))} has no checksum off-site "
            f"({name}{SIDECAR}): nothing proves its content; it is not used"
        )
    noted = name.note_name in listing
    if noted != (name.note_name + SIDECAR in listing):
        raise IntegrityError(
            f"{bucket.url(base + str(name))} has its note ({name.note_name}) or the note's "
            f"checksum object ({name.note_name}{SIDECAR}) off-site, not both: what it left "
            "out cannot be told; it is not used"
        )
    archive = bucket.stat(base + str(name))
    globals_found = bucket.stat(base + name.globals_name)
    note = bucket.stat(base + name.note_name) if noted else None
    if any(found is not None and found.encrypted for found in (archive, globals_found, note)):
        cipher.identity(bucket.url(base + str(name)))  # before any byte is fetched
    wanted = [(str(name) + SIDECAR, None), (str(name), archive)]
    if globals_found is not None:
        wanted += [(name.globals_name + SIDECAR, None), (name.globals_name, globals_found)]
    if note is not None:
        wanted += [(name.note_name + SIDECAR, None), (name.note_name, note)]
    for key_name, found in wanted:
        if found is None or not found.encrypted:
            bucket.get(base + key_name, into / key_name)
            continue
        # The ciphertext beside its target, decrypted into it, then removed.
        ciphertext = into / f".{key_name}.age"
        try:
            bucket.get(base + key_name, ciphertext)
            cipher.decrypt(ciphertext, into / key_name, what=bucket.url(base + key_name))
        finally:
            ciphertext.unlink(missing_ok=True)
    if note is not None:
        _check(into / name.note_name, what=bucket.url(base + name.note_name))


def _check(path: Path, *, what: str) -> None:
    """Raise IntegrityError unless the file at ``path`` matches its checksum file."""
    recorded = read_checksum(path)
    if recorded is None or hashlib.sha256(path.read_bytes()).hexdigest() != recorded:
        raise IntegrityError(
            f"{what} does not match its checksum object ({path.name}{SIDECAR}): it was "
            "changed off-site; the copy is not used"
        )
