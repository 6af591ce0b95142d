"""``list --pitr``: each service's streams, newest first, with their base backups and
the WAL received."""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from pg_backup_manager.domain.model import Database
from pg_backup_manager.domain.pitr.model import (
    BaseBackup,
    DamagedStream,
    Segment,
    Stream,
    Window,
)
from pg_backup_manager.domain.pitr.ports import PitrStore
from pg_backup_manager.domain.pitr.windows import received_segments, stream_windows


@attrs.frozen(kw_only=True)
class WalReceived:
    """The WAL of a stream, in short: its first and last segment, how many there are,
    their bytes, and whether the last is the ``.partial`` one being written (of the
    segments that count: see :func:`received_segments`)."""

    first: str | None
    last: str | None
    count: int
    size: int
    partial: bool

    @classmethod
    def of(cls, segments: Sequence[Segment]) -> WalReceived:
        """Return the summary of ``segments`` (oldest first)."""
        if not segments:
            return cls(first=None, last=None, count=0, size=0, partial=False)
        return cls(
            first=segments[0].name,
            last=segments[-1].name,
            count=len(segments),
            size=sum(segment.size for segment in segments),
            partial=segments[-1].partial,
        )


@attrs.frozen(kw_only=True)
class StreamListing:
    """One stream, its base backups (newest first), its WAL, and the windows of time it
    can recover to (oldest first; a gap in its WAL ends one)."""

    stream: Stream
    base_backups: tuple[BaseBackup, ...]
    wal: WalReceived
    windows: tuple[Window, ...] = ()


@attrs.frozen(kw_only=True)
class PitrListing:
    """The streams of one service, newest first, and its damaged streams (newest first:
    never used for recovery, never pruned)."""

    database: Database
    streams: tuple[StreamListing, ...]
    damaged: tuple[DamagedStream, ...] = ()

    @property
    def windows(self) -> tuple[Window, ...]:
        """Return every window of the service, oldest first."""
        found = [window for listed in self.streams for window in listed.windows]
        return tuple(sorted(found, key=lambda window: (window.start_at, window.end_at)))


@attrs.frozen(kw_only=True)
class PitrListReport:
    """What ``list --pitr`` found, service by service, in the order asked."""

    listings: tuple[PitrListing, ...]

    @property
    def exit_code(self) -> int:
        """Return 0: a directory that cannot be read raised instead."""
        return 0


@attrs.frozen(kw_only=True)
class ListPitr:
    """Lists the streams, base backups and WAL of services."""

    store: PitrStore

    def __call__(self, databases: Sequence[Database]) -> PitrListReport:
        """Return what each of ``databases`` has for point-in-time recovery.

        Raises:
            ControllerError: the streams' directory, or a base backup's facts, cannot be
                read (a damaged stream is listed as such, not raised).
        """
        return PitrListReport(listings=tuple(self._listing(database) for database in databases))

    def _listing(self, database: Database) -> PitrListing:
        identifier = database.identifier
        return PitrListing(
            database=database,
            streams=tuple(
                self._stream(identifier, stream) for stream in self.store.streams(identifier)
            ),
            damaged=tuple(self.store.damaged(identifier)),
        )

    def _stream(self, identifier: str, stream: Stream) -> StreamListing:
        contents = self.store.contents(identifier, stream)
        return StreamListing(
            stream=stream,
            base_backups=contents.base_backups,
            wal=WalReceived.of(received_segments(stream, contents.segments)),
            windows=stream_windows(contents),
        )
