"""What point-in-time recovery reasons about: streams of WAL, base backups, segments
and the windows of time they can give back.

A *stream* is one unbroken history of one server: one system identifier, one
timeline, one replication slot. It is never reused: when the server, the timeline
or the slot changes, a new stream begins and the old one stays as it was.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime

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


UTC_NAME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_SLOT_NAME_LENGTH = 63


def utc_name(moment: datetime) -> str:
    """Return the name of a stream or base backup begun at the aware ``moment``
    (``2026-12-04T23:10:00Z``), as dumps name their times."""
    return moment.astimezone(UTC).strftime(UTC_NAME_FORMAT)


def parse_utc_name(text: str) -> datetime | None:
    """Return the UTC time a stream or base backup name says, or None when ``text``
    is not such a name (a hidden, temporary or foreign file)."""
    try:
        return datetime.strptime(text, UTC_NAME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def format_lsn(lsn: Lsn) -> str:
    """Return ``lsn`` as PostgreSQL writes it: ``16/B374D848``."""
    return f"{lsn >> 32:X}/{lsn & 0xFFFFFFFF:X}"


def parse_lsn(text: str) -> Lsn:
    """Return the LSN PostgreSQL wrote as ``16/B374D848``.

    Raises:
        ValueError: ``text`` is not two hexadecimal numbers separated by ``/``.
    """
    high, slash, low = text.strip().partition("/")
    if not slash:
        raise ValueError(f"not an LSN: {text!r}")
    return (int(high, 16) << 32) | int(low, 16)


def slot_name(identifier: str) -> str:
    """Return the physical replication slot of the service ``identifier``:
    ``pg_backup_manager_<identifier lowercased, '-' as '_'>``, cut to 63 characters
    (slot names are ``[a-z0-9_]{1,63}``)."""
    return f"pg_backup_manager_{identifier.lower().replace('-', '_')}"[:_SLOT_NAME_LENGTH]
