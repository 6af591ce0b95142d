"""What a base backup says about itself, read from the files ``pg_basebackup`` wrote:

- ``PG_VERSION``: the server's major version;
- ``backup_label``: ``START WAL LOCATION`` and ``START TIMELINE``;
- ``backup_manifest``: ``WAL-Ranges`` (the end LSN, the timeline) and its
  ``Manifest-Checksum`` (the SHA-256 of the manifest);
- ``global/pg_control``, through ``pg_controldata`` of that major: the system
  identifier and the WAL segment size. The tool rather than the file's bytes:
  the system identifier is the file's first 8 bytes, but the segment size sits
  at an offset that changes between majors, the file is in the server's byte
  order, and the tool checks the file's CRC; that major's binaries are needed
  anyway, for ``pg_verifybackup``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from pg_backup_manager.adapters import processes
from pg_backup_manager.adapters.postgres.pg_binaries import PgBinaries
from pg_backup_manager.domain.errors import ControllerError
from pg_backup_manager.domain.pitr.model import BackupFacts
from pg_backup_manager.domain.pitr.wal_names import lsn_of

_START_LSN = re.compile(r"^START WAL LOCATION: ([0-9A-Fa-f]+/[0-9A-Fa-f]+)", re.MULTILINE)
_START_TIMELINE = re.compile(r"^START TIMELINE: (\d+)", re.MULTILINE)
_SYSTEM_IDENTIFIER = re.compile(r"^Database system identifier:\s+(\d+)", re.MULTILINE)
_SEGMENT_SIZE = re.compile(r"^Bytes per WAL segment:\s+(\d+)", re.MULTILINE)


def read(directory: Path, *, binaries: PgBinaries, timeout: float) -> BackupFacts:
    """Return the facts of the base backup in ``directory`` (see the module).

    Raises:
        ControllerError: a file is missing or not what pg_basebackup writes.
        ToolError: that major's ``pg_controldata`` is missing or fails.
    """
    major = _major(_text(directory / "PG_VERSION"))
    label = _text(directory / "backup_label")
    start = _found(_START_LSN, label, directory / "backup_label")
    timeline = int(_found(_START_TIMELINE, label, directory / "backup_label"))
    manifest_path = directory / "backup_manifest"
    try:
        manifest = json.loads(_text(manifest_path))
        ranges = manifest["WAL-Ranges"]
        last = ranges[-1]
        end_lsn = lsn_of(last["End-LSN"])
        checksum = str(manifest["Manifest-Checksum"])
    except (ValueError, KeyError, IndexError, TypeError) as error:
        raise ControllerError(f"{manifest_path} is not a backup manifest ({error!r})") from None
    if int(last["Timeline"]) != timeline:
        raise ControllerError(
            f"{manifest_path} ends on timeline {last['Timeline']}, its backup_label starts on "
            f"{timeline}: the server changed timeline during the backup; take it again"
        )
    control = processes.run(
        binaries.for_major(str(major), "pg_controldata"),
        [str(directory)],
        what=f"pg_controldata of {directory}",
        timeout=timeout,
        env={"LC_ALL": "C"},
    )
    return BackupFacts(
        system_identifier=_found(_SYSTEM_IDENTIFIER, control, directory / "global/pg_control"),
        timeline=timeline,
        start_lsn=lsn_of(start),
        end_lsn=end_lsn,
        wal_segment_size=int(_found(_SEGMENT_SIZE, control, directory / "global/pg_control")),
        server_major=major,
        manifest_sha256=checksum,
    )


def _text(path: Path) -> str:
    try:
        return path.read_text()
    except (OSError, UnicodeDecodeError) as error:
        raise ControllerError(f"cannot read {path}: {error}: not a base backup") from None


def _major(text: str) -> int:
    # PG_VERSION holds "15" (10 and later: the major alone).
    if not text.strip().isdigit():
        raise ControllerError(f"PG_VERSION says {text.strip()!r}: not a major version")
    return int(text.strip())


def _found(pattern: re.Pattern[str], text: str, source: Path) -> str:
    matched = pattern.search(text)
    if matched is None:
        raise ControllerError(f"{source} does not say {pattern.pattern!r}: not a base backup")
    return matched.group(1)
