"""The stream directories of each service, read and begun: the PitrStore port.

``<data root>/<service>/pitr/streams/<UTC name>/`` holds ``STREAM.json``, ``wal/``
(what ``pg_receivewal`` writes) and ``base/`` (committed base backups, each a
directory and its ``<name>.json``). A stream is created whole under a hidden name
and renamed, so a stream without ``STREAM.json`` is never one being created: a
directory of a stream's name whose ``STREAM.json`` is missing, unreadable or not a
stream's facts is *damaged* (listed as such, never used).
"""

from __future__ import annotations

import os
import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs

from pg_backup_manager.adapters.pitr import records
from pg_backup_manager.adapters.storage import files
from pg_backup_manager.domain.errors import ControllerError, one_line
from pg_backup_manager.domain.model import Layout
from pg_backup_manager.domain.pitr.model import (
    BaseBackup,
    DamagedStream,
    Segment,
    Stream,
    StreamContents,
)
from pg_backup_manager.domain.pitr.naming import time_of_name, utc_name

# A WAL segment: timeline, log and segment, 8 hexadecimal digits each.
_SEGMENT = re.compile(
    r"(?P<tli>[0-9A-F]{8})(?P<log>[0-9A-F]{8})(?P<seg>[0-9A-F]{8})(?P<partial>\.partial)?"
)
_SEGMENTS_PER_LOG_BYTES = 0x100000000


@attrs.frozen(kw_only=True)
class LocalPitrStore:
    """Streams under each service's backup directory (see the module); the
    PitrStore and PitrPruner ports."""

    layout: Layout
    file_mode: int = 0o600

    def streams(self, identifier: str) -> list[Stream]:
        """Return the streams of ``identifier``, newest first (see :class:`PitrStore`)."""
        found = [read for read in self._read(identifier) if isinstance(read, Stream)]
        return sorted(found, key=lambda stream: stream.name, reverse=True)

    def damaged(self, identifier: str) -> list[DamagedStream]:
        """Return the damaged streams of ``identifier``, newest first (see :class:`PitrStore`)."""
        found = [read for read in self._read(identifier) if isinstance(read, DamagedStream)]
        return sorted(found, key=lambda damaged: damaged.name, reverse=True)

    def _read(self, identifier: str) -> list[Stream | DamagedStream]:
        """Return every stream directory of ``identifier``, read or damaged."""
        directory = records.pitr_dir(self.layout, identifier) / records.STREAMS
        found: list[Stream | DamagedStream] = []
        for entry in files.scan(directory):
            if time_of_name(entry.name) is None or not entry.is_dir(follow_symlinks=False):
                continue
            facts = Path(entry.path) / records.STREAM_FILE
            if not facts.exists():
                found.append(DamagedStream(name=entry.name, reason=f"no {records.STREAM_FILE}"))
                continue
            try:
                found.append(records.stream_of(entry.name, records.read_json(facts)))
            except ControllerError as error:
                reason = str(error).replace(str(facts), records.STREAM_FILE)
                found.append(DamagedStream(name=entry.name, reason=reason))
            except (KeyError, ValueError, TypeError, AttributeError) as error:
                reason = f"{records.STREAM_FILE} is not a stream's facts ({_what(error)})"
                found.append(DamagedStream(name=entry.name, reason=reason))
        return found

    def open_stream(self, identifier: str, stream: Stream) -> Stream:
        """Create ``stream`` whole, then give it its name (see :class:`PitrStore`)."""
        root = files.private_dir(
            Path(self.layout.data_root), records.pitr_dir(self.layout, identifier) / records.STREAMS
        )
        records.remove_abandoned(root)
        taken = {entry.name for entry in files.scan(root)}
        at = stream.started_at
        while utc_name(at) in taken:
            at += timedelta(seconds=1)
        stream = attrs.evolve(stream, name=utc_name(at), started_at=at)
        staging = root / f".{stream.name}.{os.getpid()}{files.PARTIAL}"
        try:
            os.mkdir(staging, 0o700)
            try:
                for part in (records.WAL, records.BASE):
                    os.mkdir(staging / part, 0o700)
                records.write_json(
                    staging / records.STREAM_FILE,
                    records.stream_json(stream),
                    mode=self.file_mode,
                )
                files.fsync_dir(staging)
                # rename() would replace an empty directory: a name is never reused.
                if (root / stream.name).exists():
                    raise ControllerError(f"stream {root / stream.name} exists already")
                os.rename(staging, root / stream.name)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
            files.fsync_dir(root)
        except OSError as error:
            raise ControllerError(files.describe(error, root)) from None
        return stream

    def base_backups(self, identifier: str, stream: Stream) -> list[BaseBackup]:
        """Return the committed base backups of ``stream``, newest first: a name with
        both its directory and its facts (see :class:`PitrStore`)."""
        directory = self._stream(identifier, stream) / records.BASE
        names = {entry.name for entry in files.scan(directory)}
        found = []
        for name in names:
            if time_of_name(name) is None or name + records.JSON not in names:
                continue
            if not (directory / name).is_dir():
                continue
            facts = directory / (name + records.JSON)
            try:
                found.append(records.base_of(stream.name, records.read_json(facts)))
            except (KeyError, ValueError, TypeError) as error:
                raise ControllerError(f"{facts} is not a base backup's facts ({error})") from None
        return sorted(found, key=lambda backup: backup.name, reverse=True)

    def segments(self, identifier: str, stream: Stream) -> list[Segment]:
        """Return the segments in ``wal/``, oldest first (see :class:`PitrStore`)."""
        per_log = _SEGMENTS_PER_LOG_BYTES // stream.wal_segment_size
        found = []
        for entry in files.scan(self._stream(identifier, stream) / records.WAL):
            matched = _SEGMENT.fullmatch(entry.name)
            if matched is None or not entry.is_file(follow_symlinks=False):
                continue
            status = entry.stat(follow_symlinks=False)
            found.append(
                Segment(
                    name=entry.name,
                    timeline=int(matched["tli"], 16),
                    number=int(matched["log"], 16) * per_log + int(matched["seg"], 16),
                    size=status.st_size,
                    received_at=datetime.fromtimestamp(status.st_mtime, UTC),
                    partial=matched["partial"] is not None,
                )
            )
        # A complete segment sorts before the .partial of the same name.
        return sorted(
            found, key=lambda segment: (segment.timeline, segment.number, segment.partial)
        )

    def contents(self, identifier: str, stream: Stream) -> StreamContents:
        """Return what ``stream`` holds (see :class:`PitrStore`)."""
        return StreamContents(
            stream=stream,
            base_backups=tuple(self.base_backups(identifier, stream)),
            segments=tuple(self.segments(identifier, stream)),
            caught_up=records.read_caught_up(self._stream(identifier, stream)),
        )

    def delete_base_backup(self, identifier: str, stream: Stream, backup: BaseBackup) -> None:
        """Delete ``backup``'s facts, then its directory (see :class:`PitrPruner`)."""
        directory = self._stream(identifier, stream) / records.BASE
        try:
            (directory / (backup.name + records.JSON)).unlink(missing_ok=True)
            files.fsync_dir(directory)  # from here on it is not listed
            _remove_tree(directory, backup.name)
        except OSError as error:
            raise ControllerError(
                f"cannot delete base backup {backup.name}: {_said(error)}"
            ) from None

    def delete_segment(self, identifier: str, stream: Stream, segment: Segment) -> None:
        """Delete ``segment``, then its checksum (see :class:`PitrPruner`)."""
        directory = self._stream(identifier, stream) / records.WAL
        try:
            (directory / segment.name).unlink(missing_ok=True)
            (directory / (segment.name + files.SHA256)).unlink(missing_ok=True)
            files.fsync_dir(directory)
        except OSError as error:
            raise ControllerError(f"cannot delete WAL {segment.name}: {_said(error)}") from None

    def delete_stream(self, identifier: str, stream: Stream) -> None:
        """Hide ``stream``, then remove it (see :class:`PitrPruner`)."""
        root = records.pitr_dir(self.layout, identifier) / records.STREAMS
        try:
            _remove_tree(root, stream.name)
        except OSError as error:
            raise ControllerError(f"cannot delete stream {stream.name}: {_said(error)}") from None

    def _stream(self, identifier: str, stream: Stream) -> Path:
        return records.stream_dir(self.layout, identifier, stream.name)


def _remove_tree(directory: Path, name: str) -> None:
    """Rename ``directory/name`` to a hidden name, durably, then remove it: from the
    rename on it is not listed; what a removal that failed left is removed by the next
    one here, once the process that left it is gone."""
    records.remove_abandoned(directory)
    hidden = directory / f".{name}.{os.getpid()}{files.PARTIAL}"
    if (directory / name).exists():
        os.rename(directory / name, hidden)
        files.fsync_dir(directory)
    if hidden.exists():
        shutil.rmtree(hidden)


def _what(error: Exception) -> str:
    if isinstance(error, KeyError):
        return f"no {error}"
    return one_line(error)


def _said(error: OSError) -> str:
    return f"{error.strerror or error} ({error.filename})" if error.filename else str(error)
