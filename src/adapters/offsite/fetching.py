"""Off-site copies brought back: the download of one copy from a bucket, decrypted
(see :class:`~.store.BucketOffsiteStore`)."""

from __future__ import annotations

from pathlib import Path

from pg_backup_manager.adapters.offsite.bucket import Bucket, Cipher
from pg_backup_manager.domain.errors import BackupNotFoundError, IntegrityError
from pg_backup_manager.domain.names import BackupName

SIDECAR = ".sha256"


def download(
    bucket: Bucket, cipher: Cipher, *, base: str, identifier: str, name: BackupName, into: Path
) -> None:
    """Write backup ``name`` of ``identifier`` (under the key prefix ``base``) and its
    companions into the directory ``into``, under their own names (the globals only if
    the bucket has them), decrypted.

    Raises:
        BackupNotFoundError: the bucket has no such backup.
        IntegrityError: the bucket has the backup but not its checksum.
        ControllerError: the bucket cannot be reached, or a file cannot be written.
    """
    # Listed first: a listing's error says more than a stat's (S3: a bare 404 or 403).
    if str(name) not in bucket.listing(base):
        raise BackupNotFoundError(
            f"no off-site copy {name} of {identifier} in {bucket.url(base)}: see "
            f"'controller list {identifier} --remote'"
        )
    if bucket.stat(base + str(name) + SIDECAR) is None:
        raise IntegrityError(
            f"{bucket.url(base + str(name))} has no checksum off-site "
            f"({name}{SIDECAR}): nothing proves its content; it is not used"
        )
    archive = bucket.stat(base + str(name))
    globals_found = bucket.stat(base + name.globals_name)
    if any(found is not None and found.encrypted for found in (archive, globals_found)):
        cipher.identity(bucket.url(base + str(name)))  # before any byte is fetched
    wanted = [(str(name) + SIDECAR, None), (str(name), archive)]
    if globals_found is not None:
        wanted += [(name.globals_name + SIDECAR, None), (name.globals_name, globals_found)]
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
