"""Is a failed write of a backup about a full device? Then the operator is told so,
with the free space, instead of the tool's words."""

from __future__ import annotations

import os
import re
from pathlib import Path

from pg_backup_manager.domain.errors import ControllerError, IntegrityError

# Below this much free space, a failed write is taken for a full device.
_FULL_BELOW_BYTES = 1 << 20
# What the tools and the system say when a write failed (strerror of ENOSPC, EDQUOT).
_SPACE_WORDS = ("no space left", "disk quota exceeded")
_WRITE_FAILED = re.compile(r"could not (write|close|fsync|flush)")


def space_left_or(error: ControllerError, directory: Path) -> ControllerError:
    """Return a "no space left" error when ``error`` is about space (:func:`about_space`)
    and ``directory``'s device is full, else ``error`` itself.

    On a full device some tools exit 0 after writing nothing (pg_dump 15 in
    the custom format): the archive check then fails, and would look like a
    damaged archive. Any other failure (a wrong password) keeps its own words.
    """
    try:
        status = os.statvfs(directory)
    except OSError:
        return error
    free = status.f_bavail * status.f_frsize
    if free >= _FULL_BELOW_BYTES or not about_space(error):
        return error
    return ControllerError(
        f"no space left on the device of {directory} ({free // 1024} KiB free): "
        f"free space there; nothing was written ({' '.join(str(error).split())})"
    )


def about_space(error: ControllerError) -> bool:
    """Return whether ``error``, met while writing a backup, may come from a full device.

    It is when it says so (``No space left on device``, a quota), when a tool
    could not write, close or sync a file, or when the archive just written
    cannot be read back (an IntegrityError: a file that could not grow). Not
    when a tool failed for another reason: the server refused, a timeout.
    """
    said = str(error).lower()
    return (
        isinstance(error, IntegrityError)
        or any(words in said for words in _SPACE_WORDS)
        or _WRITE_FAILED.search(said) is not None
    )
