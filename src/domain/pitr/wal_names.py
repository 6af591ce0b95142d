"""The names PostgreSQL gives to WAL: locations (``16/B374D848``), segment files
(``000000010000001600000B37``, ``<segment>.partial``) and timeline history files
(``00000002.history``) with their content.

Every ``*_from_text`` / ``parse_*`` function returns None for anything that is not
exactly such a name or text (no exception: a WAL directory holds other files, and
the caller says what it was reading). Functions that build a name from numbers raise
``ValueError`` for numbers no PostgreSQL writes: that is a bug, not bad input.
"""

from __future__ import annotations

import re

import attrs

from pg_backup_manager.domain.pitr.model import Lsn

MIN_SEGMENT_SIZE = 1 << 20  # 1 MiB: initdb --wal-segsize=1
MAX_SEGMENT_SIZE = 1 << 30  # 1 GiB: initdb --wal-segsize=1024
PARTIAL_SUFFIX = ".partial"
HISTORY_SUFFIX = ".history"
_MAX_LSN = (1 << 64) - 1
_MAX_TIMELINE = (1 << 32) - 1
_HEX8 = "[0-9A-F]{8}"
# PostgreSQL writes upper case, and one spelling per file keeps a segment from being
# listed twice; an LSN is read in either case, as the server's pg_lsn input does.
_SEGMENT = re.compile(f"({_HEX8})({_HEX8})({_HEX8})")
_HISTORY = re.compile(f"({_HEX8}){re.escape(HISTORY_SUFFIX)}")
_LSN = re.compile(r"([0-9A-Fa-f]{1,8})/([0-9A-Fa-f]{1,8})")


def is_segment_size(size: int) -> bool:
    """Return whether ``size`` is a WAL segment size a server can have: a power of two
    from 1 MiB to 1 GiB."""
    return MIN_SEGMENT_SIZE <= size <= MAX_SEGMENT_SIZE and size & (size - 1) == 0


def _segments_per_log(wal_segment_size: int) -> int:
    if not is_segment_size(wal_segment_size):
        raise ValueError(f"{wal_segment_size} is not a WAL segment size")
    return (1 << 32) // wal_segment_size


def format_lsn(lsn: Lsn) -> str:
    """Return ``lsn`` as PostgreSQL prints it: ``X/Y``, upper-case hex, no leading zeros.

    Raises:
        ValueError: ``lsn`` is negative or wider than 64 bits.
    """
    if not 0 <= lsn <= _MAX_LSN:
        raise ValueError(f"{lsn} is not a WAL location")
    return f"{lsn >> 32:X}/{lsn & 0xFFFFFFFF:X}"


def parse_lsn(text: str) -> Lsn | None:
    """Return the location ``text`` spells (``16/B374D848``, either case), or None."""
    match = _LSN.fullmatch(text)
    if match is None:
        return None
    return int(match[1], 16) << 32 | int(match[2], 16)


def lsn_of(text: str) -> Lsn:
    """Return the location ``text`` spells, as :func:`parse_lsn`.

    Raises:
        ValueError: it is not one (what a tool or a file said is broken).
    """
    lsn = parse_lsn(text.strip())
    if lsn is None:
        raise ValueError(f"not a WAL location: {text!r}")
    return lsn


def segment_of(lsn: Lsn, wal_segment_size: int) -> int:
    """Return the number of the segment that holds the byte at ``lsn``.

    Raises:
        ValueError: ``wal_segment_size`` is not a segment size, or ``lsn`` is negative.
    """
    _segments_per_log(wal_segment_size)
    if lsn < 0:
        raise ValueError(f"{lsn} is not a WAL location")
    return lsn // wal_segment_size


def segment_start(number: int, wal_segment_size: int) -> Lsn:
    """Return the location of the first byte of segment ``number``."""
    _segments_per_log(wal_segment_size)
    return number * wal_segment_size


def segment_name(timeline: int, number: int, wal_segment_size: int) -> str:
    """Return the file name of segment ``number`` on ``timeline``: timeline, log and
    segment within the log, 8 upper-case hex digits each.

    Raises:
        ValueError: the timeline is outside 1..2**32-1, the number is negative or past
            the end of the 64-bit WAL, or ``wal_segment_size`` is not a segment size.
    """
    per_log = _segments_per_log(wal_segment_size)
    if not 1 <= timeline <= _MAX_TIMELINE:
        raise ValueError(f"{timeline} is not a timeline")
    if not 0 <= number < (1 << 64) // wal_segment_size:
        raise ValueError(f"{number} is not a segment number")
    log, seg = divmod(number, per_log)
    return f"{timeline:08X}{log:08X}{seg:08X}"


@attrs.frozen(kw_only=True)
class SegmentFile:
    """What a segment's file name says: its timeline, its number (counted from the
    start of the WAL, as the server's ``XLogSegNo``) and whether it is the one
    ``pg_receivewal`` is still writing (``<segment>.partial``)."""

    timeline: int
    number: int
    partial: bool = False


def segment_from_text(text: str, wal_segment_size: int) -> SegmentFile | None:
    """Return what the file name ``text`` says of a segment of a server whose segments
    are ``wal_segment_size`` bytes, or None when ``text`` is not exactly a segment name
    or a ``.partial`` one (timeline 0, a segment past the end of its log, lower case,
    a path or another file are all None).

    Raises:
        ValueError: ``wal_segment_size`` is not a segment size.
    """
    per_log = _segments_per_log(wal_segment_size)
    partial = text.endswith(PARTIAL_SUFFIX)
    match = _SEGMENT.fullmatch(text.removesuffix(PARTIAL_SUFFIX) if partial else text)
    if match is None:
        return None
    timeline, log, seg = (int(group, 16) for group in match.groups())
    if timeline == 0 or seg >= per_log:
        return None
    return SegmentFile(timeline=timeline, number=log * per_log + seg, partial=partial)


def next_segment_name(name: str, wal_segment_size: int) -> str | None:
    """Return the name of the segment after ``name`` on the same timeline (across the
    end of a log: ``...000000FF`` is followed by ``...0000000100000000`` with 16 MiB
    segments), or None when ``name`` is not a complete segment's name.

    Raises:
        ValueError: ``wal_segment_size`` is not a segment size, or ``name`` is the last
            segment of the 64-bit WAL.
    """
    segment = segment_from_text(name, wal_segment_size)
    if segment is None or segment.partial:
        return None
    return segment_name(segment.timeline, segment.number + 1, wal_segment_size)


def history_name(timeline: int) -> str:
    """Return the name of the history file of ``timeline``: ``%08X.history``.

    Raises:
        ValueError: the timeline is outside 1..2**32-1.
    """
    if not 1 <= timeline <= _MAX_TIMELINE:
        raise ValueError(f"{timeline} is not a timeline")
    return f"{timeline:08X}{HISTORY_SUFFIX}"


def history_timeline(text: str) -> int | None:
    """Return the timeline whose history file is named ``text``, or None (upper case
    only, timeline 1 has no history file so ``00000001.history`` is None too)."""
    match = _HISTORY.fullmatch(text)
    if match is None:
        return None
    timeline = int(match[1], 16)
    return timeline if timeline >= 2 else None


@attrs.frozen(kw_only=True)
class TimelineSwitch:
    """One line of a history file: WAL of ``parent`` up to ``switchpoint`` belongs to
    the history; ``reason`` is the server's words (may be empty)."""

    parent: int
    switchpoint: Lsn
    reason: str


def parse_history(text: str) -> tuple[TimelineSwitch, ...] | None:
    """Return the switches a history file's content lists, oldest first, or None when
    it is not one.

    As the server reads it: blank lines and lines starting with ``#`` are skipped
    (after leading white space); each other line is ``parentTLI<TAB>X/Y<TAB>reason``
    (fields separated by white space, the reason optional); parent timelines must
    increase from line to line. A file with no line at all is an empty history.
    """
    switches: list[TimelineSwitch] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split(None, 2)
        if len(fields) < 2 or not fields[0].isascii() or not fields[0].isdigit():
            return None
        parent, switchpoint = int(fields[0]), parse_lsn(fields[1])
        if switchpoint is None or not 1 <= parent <= _MAX_TIMELINE:
            return None
        if switches and parent <= switches[-1].parent:
            return None
        reason = fields[2] if len(fields) == 3 else ""
        switches.append(TimelineSwitch(parent=parent, switchpoint=switchpoint, reason=reason))
    return tuple(switches)
