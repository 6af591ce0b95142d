"""The writes of the file bucket (:mod:`.bucket`): a file created exclusively and
fsynced, read back, then named without replacing a file; and the removal of the
temporary files of interrupted uploads."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

from pg_backup_manager.adapters.offsite.bucket import Source
from pg_backup_manager.adapters.storage.files import fsync_dir
from pg_backup_manager.domain.names import GLOBALS_SUFFIX, NOTE_SUFFIX, BackupName

PARTIAL = ".partial"
LEFTOVER_SECONDS = 24 * 3600  # a temporary file this old is no live upload's
_CHUNK = 1024 * 1024
_NO_HARD_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK}
# The temporary names of :mod:`.bucket`: ``.<name>[.meta].<pid>.<8 hex digits>.partial``.
_TEMPORARY = re.compile(r"\.(?P<name>.+?)(?:\.meta)?\.\d+\.[0-9a-f]{8}" + re.escape(PARTIAL))


def write(path: Path, source: Source) -> tuple[int, str]:
    """Create ``path`` (never an existing file) with ``source``; fsync it; return the
    size and SHA-256 of what was written."""
    digest = hashlib.sha256()
    written = 0
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as target:
        for chunk in _chunks(source):
            digest.update(chunk)
            written += len(chunk)
            target.write(chunk)
        target.flush()
        os.fsync(target.fileno())
    return written, digest.hexdigest()


def _chunks(source: Source) -> Iterator[bytes]:
    if isinstance(source, bytes):
        yield source
    elif isinstance(source, Path):
        with source.open("rb") as file:
            while chunk := file.read(_CHUNK):
                yield chunk
    else:
        while chunk := source.read(_CHUNK):
            yield chunk


def digest_of(path: Path) -> tuple[int, str]:
    """Return the size and SHA-256 of the file at ``path``, as read from it."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as file:
        while chunk := file.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def link(temporary: Path, final: Path) -> bool:
    """Give ``temporary`` the name ``final`` unless a file has it; False: one has."""
    try:
        os.link(temporary, final)
    except FileExistsError:
        return False
    except OSError as error:
        if error.errno not in _NO_HARD_LINKS:
            raise
        # A share without hard links: check, then rename (see the module's docstring).
        if final.exists() or final.is_symlink():
            return False
        os.rename(temporary, final)
    fsync_dir(final.parent)
    return True


def remove_leftovers(directory: Path) -> None:
    """Remove the temporary files of uploads interrupted a day ago or more: only names of
    this controller's form for a file it writes (a backup, its globals, its note, their
    checksum objects, their records); any other file is left alone."""
    now = time.time()
    with os.scandir(directory) as entries:
        for entry in entries:
            if is_temporary(entry.name):
                with contextlib.suppress(OSError):  # gone meanwhile: another cleaner's
                    if now - entry.stat(follow_symlinks=False).st_mtime >= LEFTOVER_SECONDS:
                        os.unlink(entry.path)


def is_temporary(name: str) -> bool:
    """Return whether ``name`` is a temporary name this controller gives a file it writes."""
    found = _TEMPORARY.fullmatch(name)
    if found is None:
        return False
    written = found["name"].removesuffix(".sha256")
    for companion in (GLOBALS_SUFFIX, NOTE_SUFFIX):
        if written.endswith(companion):
            written = written.removesuffix(companion) + ".dump"
    return BackupName.from_text(written) is not None
