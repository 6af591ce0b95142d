"""The ``wal`` directory of each stream, as ``pg_receivewal`` leaves it: completed segments
get a ``<segment>.sha256`` beside them (pg_receivewal reads only WAL names and skips it),
and a partial segment cut short at its creation is emptied so the receiver can go on."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime
from pathlib import Path, PurePath

import attrs

from pg_backup_manager.adapters.pitr import records
from pg_backup_manager.adapters.storage import files
from pg_backup_manager.domain.errors import ControllerError
from pg_backup_manager.domain.pitr import wal_names
from pg_backup_manager.domain.pitr.model import CaughtUp, Segment, Stream

_CHUNK = 1 << 20
_MODE = 0o600


@attrs.frozen(kw_only=True)
class WalDirectories:
    """The ``wal`` directories under ``<data_root>/<service>/pitr/streams/<stream>``."""

    data_root: Path

    def wal_directory(self, identifier: str, stream: Stream) -> Path:
        return self.data_root / identifier / "pitr" / "streams" / stream.name / "wal"

    def seal(self, identifier: str, stream: Stream) -> list[Segment]:
        """See :meth:`~pg_backup_manager.domain.pitr.ports.WalArchive.seal`."""
        directory = self.wal_directory(identifier, stream)
        entries = {entry.name: entry for entry in files.scan(directory)}
        sealed = []
        for name in sorted(entries):
            parsed = wal_names.segment_from_text(name, stream.wal_segment_size)
            if parsed is None or parsed.partial or name + files.SHA256 in entries:
                continue
            status = entries[name].stat(follow_symlinks=False)
            if status.st_size != stream.wal_segment_size:
                continue  # not ours to judge: the windows will show it as a gap
            _write_sidecar(directory, name)
            sealed.append(
                Segment(
                    name=name,
                    timeline=parsed.timeline,
                    number=parsed.number,
                    size=status.st_size,
                    received_at=datetime.fromtimestamp(status.st_mtime, UTC),
                )
            )
        if sealed:
            files.fsync_dir(directory)
        return sealed

    def record_caught_up(self, identifier: str, stream: Stream, caught: CaughtUp) -> None:
        """See :meth:`~pg_backup_manager.domain.pitr.receiver_ports.WalArchive.record_caught_up`."""
        stream_dir = self.wal_directory(identifier, stream).parent
        records.write_caught_up(stream_dir, caught, mode=_MODE)

    def repair_partial(self, identifier: str, stream: Stream) -> str | None:
        """See :meth:`~pg_backup_manager.domain.pitr.ports.WalArchive.repair_partial`."""
        directory = self.wal_directory(identifier, stream)
        for entry in files.scan(directory):
            parsed = wal_names.segment_from_text(entry.name, stream.wal_segment_size)
            if parsed is None or not parsed.partial:
                continue
            size = entry.stat(follow_symlinks=False).st_size
            if size not in (0, stream.wal_segment_size):
                os.truncate(directory / entry.name, 0)
                return entry.name
        return None


def _write_sidecar(directory: PurePath, name: str) -> None:
    segment = Path(directory) / name
    digest = hashlib.sha256()
    try:
        with segment.open("rb") as source:
            while chunk := source.read(_CHUNK):
                digest.update(chunk)
        temporary = segment.with_name(f".{name}{files.SHA256}.{os.getpid()}.partial")
        temporary.unlink(missing_ok=True)
        files.create_empty(temporary, _MODE)
        temporary.write_text(f"{digest.hexdigest()}  {name}\n")
        files.fsync(temporary)
        os.replace(temporary, segment.with_name(name + files.SHA256))
    except OSError as error:
        raise ControllerError(files.describe(error, Path(directory))) from None
