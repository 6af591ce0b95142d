"""The note beside a partial backup: ``<stem>.left-out.json``, the pg_dump arguments that
left something of the database out of it. A backup without a note is whole."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

from pg_backup_manager.adapters.storage import files
from pg_backup_manager.domain.errors import ControllerError
from pg_backup_manager.domain.names import NOTE_SUFFIX, StoredArchive

_SCHEMA = 1
MAX_BYTES = 1 << 20  # a note is a few hundred bytes: more is not ours


def _of(archive: str) -> str:
    return archive.removesuffix(".dump") + NOTE_SUFFIX


def write(final: Path, left_out: Sequence[str], *, staging: Path, mode: int) -> Path:
    """Write the note of the backup that will be ``final`` in ``staging``, durably, and give
    it its name beside ``final`` without replacing a file; return its path.

    Raises:
        OSError: it cannot be written; ControllerError: a file has its name.
    """
    note = final.with_name(_of(final.name))
    temporary = staging / note.name
    files.create_empty(temporary, mode)
    text = json.dumps({"schema": _SCHEMA, "left_out": list(left_out)}, indent=2)
    temporary.write_text(text + "\n", encoding="utf-8")
    files.fsync(temporary)
    files.publish(temporary, note)
    return note


def stored(note: Path) -> StoredArchive | None:
    """Return the note at ``note`` with the SHA-256 of its content (a note has no checksum
    file: what goes off-site is proven from this); None when there is none (the backup is
    whole), or when it is anything but a regular file.

    Raises:
        ControllerError: it cannot be read.
    """
    if not files.is_regular_file(note):
        return None
    try:
        with note.open("rb") as source:
            data = source.read(MAX_BYTES + 1)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise ControllerError(f"cannot read {note}: {error.strerror}") from None
    if len(data) > MAX_BYTES:
        raise ControllerError(f"{note} is not a note of this controller: over {MAX_BYTES} bytes")
    return StoredArchive(path=note, checksum=hashlib.sha256(data).hexdigest())


def read(note: Path) -> tuple[str, ...]:
    """Return the pg_dump arguments the note at ``note`` records; () when it cannot be read
    or is not a note (the backup is partial all the same: what it left out is unknown)."""
    try:
        with note.open("rb") as source:
            return parsed(source.read(MAX_BYTES))
    except OSError:
        return ()


def parsed(data: bytes) -> tuple[str, ...]:
    """Return the pg_dump arguments the note ``data`` records; () when it is not a note."""
    try:
        said = json.loads(data)
    except (ValueError, RecursionError):
        return ()
    arguments = said.get("left_out") if isinstance(said, dict) else None
    if not isinstance(arguments, list) or not all(isinstance(a, str) for a in arguments):
        return ()
    return tuple(arguments)
