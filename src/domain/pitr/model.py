"""What point-in-time recovery reasons about: streams of WAL, base backups, segments
and the windows of time they can give back.

A *stream* is one unbroken history of one server: one system identifier, one
timeline, one replication slot. It is never reused: when the server, the timeline
or the slot changes, a new stream begins and the old one stays as it was.
"""

from __future__ import annotations

import enum
from datetime import datetime

import attrs

Lsn = int
"""A WAL location as a number of bytes (``16/B374D848`` is ``0x16B374D848``)."""


class StreamStart(enum.Enum):
    """Why a stream began: each cut is said in the history and in ``list --pitr``."""

    FIRST = "first"
    SLOT_LOST = "slot lost"
    NEW_TIMELINE = "new timeline"
    NEW_SERVER = "new server"


@attrs.frozen(kw_only=True)
class ServerIdentity:
    """What a replication connection says about the server behind a service."""

    system_identifier: str
    timeline: int
    current_lsn: Lsn
    wal_segment_size: int
    server_major: int


@attrs.frozen(kw_only=True)
class Stream:
    """One directory of WAL received from one server, timeline and slot.

    ``name`` is its directory's name: the UTC time it began, as backups are named
    (``2026-12-04T23:10:00Z``).
    """

    name: str
    started_at: datetime
    system_identifier: str
    timeline: int
    wal_segment_size: int
    server_major: int
    slot: str
    why: StreamStart


@attrs.frozen(kw_only=True)
class BaseBackup:
    """A committed, checked base backup in a stream.

    It can start a recovery that is consistent at ``end_lsn``: recovery to a
    time before ``finished_at`` cannot use it.
    """

    name: str
    stream: str
    started_at: datetime
    finished_at: datetime
    start_lsn: Lsn
    end_lsn: Lsn
    timeline: int
    server_major: int
    size: int
    # The SHA-256 of its backup_manifest, as its Manifest-Checksum says ("" if unknown).
    manifest_sha256: str = ""


@attrs.frozen(kw_only=True)
class Segment:
    """A WAL file received: complete, or the one being written (``partial``)."""

    name: str
    timeline: int
    number: int
    size: int
    received_at: datetime
    partial: bool = False


@attrs.frozen(kw_only=True)
class SlotState:
    """The replication slot's row on the server."""

    name: str
    active: bool
    restart_lsn: Lsn | None
    wal_status: str | None
    safe_wal_size: int | None
    retained_bytes: int | None
    # The server's clock and WAL insert position when the row was read.
    server_time: datetime | None = None
    insert_lsn: Lsn | None = None


@attrs.frozen(kw_only=True)
class CaughtUp:
    """Proof that a stream holds every commit its server made before ``at``: the
    server's WAL had not passed ``lsn`` then, and the receiver has flushed past it."""

    at: datetime
    lsn: Lsn


@attrs.frozen(kw_only=True)
class StreamContents:
    """What one stream's directory holds: its committed base backups and the WAL
    segments received (complete ones and at most one ``.partial``), in any order, and
    the newest proof of how far it is complete in time (``caught_up``)."""

    stream: Stream
    base_backups: tuple[BaseBackup, ...] = ()
    segments: tuple[Segment, ...] = ()
    caught_up: CaughtUp | None = None


@attrs.frozen(kw_only=True)
class Window:
    """A span of time one stream can recover to, every second of it.

    It starts where its oldest usable base backup ends (``start_at``/``start_lsn``:
    recovery cannot stop before a base backup is consistent) and ends at the newest
    WAL received without a gap (``end_at``/``end_lsn``; for a ``.partial`` last
    segment ``end_lsn`` is where that segment ends, an upper bound of what it holds).
    ``base_backups`` are the usable ones, oldest first; ``segments`` the run of
    contiguous segments it lies in, oldest first; ``gap_at`` the name of the first
    segment missing after it (None: it ends at the newest WAL received).
    """

    stream: Stream
    start_at: datetime
    start_lsn: Lsn
    end_at: datetime
    end_lsn: Lsn
    base_backups: tuple[BaseBackup, ...]
    segments: tuple[Segment, ...]
    gap_at: str | None = None

    @property
    def ends_because(self) -> str:
        """Return why the window ends: ``gap: segment X missing`` or ``newest received``."""
        if self.gap_at is not None:
            return f"gap: segment {self.gap_at} missing"
        return "newest received"

    def holds(self, at: datetime) -> bool:
        """Return whether a recovery can stop at ``at`` (start <= at <= end)."""
        return self.start_at <= at <= self.end_at


class ReceiverCondition(enum.Enum):
    """Whether a service's WAL is being received."""

    RECEIVING = "receiving"
    DOWN = "down"


@attrs.frozen(kw_only=True)
class ReceiverState:
    """What the supervisor of a service last saw: receiving or not and since when, why
    not, the stream written, and the slot on the server (at ``checked_at``)."""

    condition: ReceiverCondition
    since: datetime
    stream: str | None = None
    error: str | None = None
    slot: SlotState | None = None
    server_lsn: Lsn | None = None
    checked_at: datetime | None = None
    # When the stream last held every commit of the server (None: not yet).
    caught_up_at: datetime | None = None


@attrs.frozen(kw_only=True)
class WalScan:
    """What a read of WAL found: the newest commit's time and where the last record
    starts (None: no commit, no record), up to the end of the WAL or to ``damage``."""

    last_commit_at: datetime | None
    last_record_lsn: Lsn | None
    # What stopped the read before the end of the WAL given (a damaged record), if any.
    damage: str | None = None


@attrs.frozen(kw_only=True)
class BackupFacts:
    """What a base backup just taken says about itself: its ``backup_label``, its
    ``backup_manifest`` (``WAL-Ranges``, ``Manifest-Checksum``), its ``pg_control`` and
    its ``PG_VERSION``. A stream is chosen by them, never by what the server said
    before the backup began."""

    system_identifier: str
    timeline: int
    start_lsn: Lsn
    end_lsn: Lsn
    wal_segment_size: int
    server_major: int
    manifest_sha256: str


# The supervisor's words that monitoring acts on: the note of the record of a receiver's
# start (after a failure: its return, always notified), and the error of the state it
# leaves when the controller stops (no failure: nothing is told of it).
RECEIVER_STARTED = "receiver started"
CONTROLLER_STOPPED = "controller stopped"


@attrs.frozen(kw_only=True)
class DamagedStream:
    """A stream directory (a UTC name, not hidden) whose ``STREAM.json`` is missing,
    unreadable or not a stream's facts: without them nothing in it can be trusted, so
    it is never recovered from, never pruned and never the live stream; ``reason`` says
    in one line what is wrong with it."""

    name: str
    reason: str


# What an operator does about a damaged stream (a person must look: nothing is deleted).
DAMAGED_STREAM_ADVICE = "restore its STREAM.json from a copy, or move the directory away"
