"""Where a service's streams live, and the JSON files that say what they hold:
``STREAM.json`` of a stream and ``base/<name>.json`` of a base backup.

Both are written once, durably, under a name no one else has (see
:func:`write_json`), and never changed. LSNs are written as PostgreSQL writes them
(``0/2000028``), times in RFC 3339 UTC.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pg_backup_manager.adapters.processes import is_alive
from pg_backup_manager.adapters.storage import files
from pg_backup_manager.domain.errors import ControllerError
from pg_backup_manager.domain.model import Layout
from pg_backup_manager.domain.pitr.model import BaseBackup, CaughtUp, Stream, StreamStart
from pg_backup_manager.domain.pitr.wal_names import format_lsn, lsn_of

PITR = "pitr"
STREAMS = "streams"
STREAM_FILE = "STREAM.json"
WAL = "wal"
BASE = "base"
JSON = ".json"
_WHY = {why.value: why for why in StreamStart}


def pitr_dir(layout: Layout, identifier: str) -> Path:
    """Return ``<data root>/<service>/pitr``: everything point-in-time recovery keeps."""
    return Path(layout.backup_dir(identifier)) / PITR


def stream_dir(layout: Layout, identifier: str, stream: str) -> Path:
    """Return the directory of the stream named ``stream``."""
    return pitr_dir(layout, identifier) / STREAMS / stream


def stream_json(stream: Stream) -> dict[str, Any]:
    """Return what ``STREAM.json`` says of ``stream`` (its name is its directory's)."""
    return {
        "system_identifier": stream.system_identifier,
        "timeline": stream.timeline,
        "wal_segment_size": stream.wal_segment_size,
        "server_major": stream.server_major,
        "slot": stream.slot,
        "started_at": _time(stream.started_at),
        "why": stream.why.value,
    }


def stream_of(name: str, document: dict[str, Any]) -> Stream:
    """Return the stream ``name`` that ``document`` (its ``STREAM.json``) describes.

    Raises:
        KeyError, ValueError, TypeError: it is not a ``STREAM.json``.
    """
    return Stream(
        name=name,
        started_at=_parse_time(document["started_at"]),
        system_identifier=str(document["system_identifier"]),
        timeline=int(document["timeline"]),
        wal_segment_size=int(document["wal_segment_size"]),
        server_major=int(document["server_major"]),
        slot=str(document["slot"]),
        why=_WHY[document["why"]],
    )


def base_json(backup: BaseBackup, stream: Stream) -> dict[str, Any]:
    """Return what ``base/<name>.json`` says of ``backup``: enough to recover from it
    without reading anything else (the stream's identity repeated)."""
    return {
        "name": backup.name,
        "started_at": _time(backup.started_at),
        "finished_at": _time(backup.finished_at),
        "start_lsn": format_lsn(backup.start_lsn),
        "end_lsn": format_lsn(backup.end_lsn),
        "timeline": backup.timeline,
        "server_major": backup.server_major,
        "system_identifier": stream.system_identifier,
        "wal_segment_size": stream.wal_segment_size,
        "size_bytes": backup.size,
        "manifest_sha256": backup.manifest_sha256,
    }


def base_of(stream: str, document: dict[str, Any]) -> BaseBackup:
    """Return the base backup of stream ``stream`` that ``document`` describes.

    Raises:
        KeyError, ValueError, TypeError: it is not a base backup's facts.
    """
    return BaseBackup(
        name=str(document["name"]),
        stream=stream,
        started_at=_parse_time(document["started_at"]),
        finished_at=_parse_time(document["finished_at"]),
        start_lsn=lsn_of(document["start_lsn"]),
        end_lsn=lsn_of(document["end_lsn"]),
        timeline=int(document["timeline"]),
        server_major=int(document["server_major"]),
        size=int(document["size_bytes"]),
        manifest_sha256=str(document["manifest_sha256"]),
    )


def read_json(path: Path) -> dict[str, Any]:
    """Return the JSON object in ``path``.

    Raises:
        ControllerError: it cannot be read or is not a JSON object.
    """
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise ControllerError(f"cannot read {path}: {error}") from None
    if not isinstance(document, dict):
        raise ControllerError(f"cannot read {path}: not a JSON object")
    return document


def write_json(path: Path, document: dict[str, Any], *, mode: int) -> None:
    """Write ``document`` to ``path`` durably, never replacing a file of that name: a
    temporary file beside it, fsynced, then linked to its name, the directory fsynced.

    Raises:
        ControllerError: it cannot be written (a full device says so), or ``path``
            exists already.
    """
    temporary = path.with_name(f".{path.name}.{os.getpid()}{files.PARTIAL}")
    try:
        files.create_empty(temporary, mode)
        temporary.write_text(json.dumps(document, indent=2) + "\n")
        files.fsync(temporary)
        files.publish(temporary, path)
    except OSError as error:
        raise ControllerError(files.describe(error, path.parent)) from None
    finally:
        temporary.unlink(missing_ok=True)


def _time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


# A directory or file being written: ".<name>.<pid>.partial" (names of ours only).
_ABANDONED = re.compile(r"\.(?P<name>[^/]+)\.(?P<pid>\d+)\.partial")


def remove_abandoned(directory: Path) -> None:
    """Remove, in ``directory``, what processes that died were writing
    (``.<name>.<pid>.partial``, a file or a whole tree)."""
    for entry in files.scan(directory):
        ours = _ABANDONED.fullmatch(entry.name)
        if ours is None or is_alive(int(ours["pid"])):
            continue
        path = Path(entry.path)
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


# The newest proof of how far a stream is complete in time (CaughtUp), replaced whole.
RECEIVED_FILE = "RECEIVED.json"


def read_caught_up(stream_dir: Path) -> CaughtUp | None:
    """Return the proof in ``stream_dir``'s ``RECEIVED.json``; None when there is none or
    it cannot be read (a stream then proves no time past its base backups' ends)."""
    try:
        document = json.loads((stream_dir / RECEIVED_FILE).read_text())
        return CaughtUp(at=_parse_time(document["caught_up_at"]), lsn=lsn_of(document["lsn"]))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def write_caught_up(stream_dir: Path, caught: CaughtUp, *, mode: int) -> None:
    """Replace ``stream_dir``'s ``RECEIVED.json`` with ``caught``, durably.

    Raises:
        ControllerError: it cannot be written (a full device says so).
    """
    path = stream_dir / RECEIVED_FILE
    temporary = path.with_name(f".{path.name}.{os.getpid()}{files.PARTIAL}")
    document = {"caught_up_at": _time(caught.at), "lsn": format_lsn(caught.lsn)}
    try:
        temporary.unlink(missing_ok=True)
        files.create_empty(temporary, mode)
        temporary.write_text(json.dumps(document) + "\n")
        files.fsync(temporary)
        os.replace(temporary, path)
        files.fsync_dir(stream_dir)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise ControllerError(files.describe(error, stream_dir)) from None
