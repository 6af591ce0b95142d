"""The note beside a partial backup: ``<stem>.left-out.json``, the pg_dump arguments that
left something of the database out of it. A backup without a note is whole."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from pg_backup_manager.adapters.storage import files
from pg_backup_manager.domain.names import BackupName

SUFFIX = ".left-out.json"
_SCHEMA = 1
_MAX_BYTES = 1 << 20  # a note is a few hundred bytes: more is not ours


def note_name(name: BackupName) -> str:
    """Return the name of the note of backup ``name``."""
    return _of(str(name))


def _of(archive: str) -> str:
    return archive.removesuffix(".dump") + SUFFIX


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


def read(note: Path) -> tuple[str, ...]:
    """Return the pg_dump arguments the note at ``note`` records; () when it cannot be read
    or is not a note (the backup is partial all the same: what it left out is unknown)."""
    try:
        with note.open("rb") as source:
            said = json.loads(source.read(_MAX_BYTES))
    except (OSError, ValueError):
        return ()
    arguments = said.get("left_out") if isinstance(said, dict) else None
    if not isinstance(arguments, list) or not all(isinstance(a, str) for a in arguments):
        return ()
    return tuple(arguments)
