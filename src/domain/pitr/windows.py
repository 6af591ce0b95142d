"""Pure rules: the windows of time a service's streams can recover to.

A stream's segments form runs of consecutive numbers; a missing number is a gap
and ends a run. A base backup is usable when one run holds every segment from the
one holding its start to the one holding its end. A run that holds a usable base
backup is a window: from the end of its oldest usable base backup to the newest
point the run received. WAL after a gap with no base backup in it is no window:
nothing can replay it. A window never spans streams: each stream is its own
history (another server, timeline or slot).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from pg_backup_manager.domain.pitr.model import (
    BaseBackup,
    Segment,
    Stream,
    StreamContents,
    Window,
)
from pg_backup_manager.domain.pitr.wal_names import segment_name, segment_of, segment_start


def newest_stream(streams: Iterable[StreamContents]) -> StreamContents | None:
    """Return the stream begun last (by start time, then name): the live one, which
    the receiver writes; None when there is none."""
    return max(streams, key=lambda c: (c.stream.started_at, c.stream.name), default=None)


def received_segments(stream: Stream, segments: Iterable[Segment]) -> tuple[Segment, ...]:
    """Return the segments of ``stream`` that count, by number.

    Only segments of the stream's own timeline count (``pg_receivewal`` follows a
    promotion into the same directory before the stream is cut: that WAL is another
    history). A ``.partial`` counts only at the tail, after every complete segment:
    one at or below a complete segment is stale (the complete one wins), and of
    several the highest only (the one being written). A complete segment whose size is
    not the stream's segment size is not WAL received (a file planted or cut short):
    it is left out as a missing one would be, so it ends a run.
    """
    own = [s for s in segments if s.timeline == stream.timeline]
    size = stream.wal_segment_size
    complete = {s.number: s for s in own if not s.partial and s.size == size}
    last = max(complete, default=-1)
    tail = max(
        (s for s in own if s.partial and s.number > last), key=lambda s: s.number, default=None
    )
    ordered = [complete[number] for number in sorted(complete)]
    return (*ordered, tail) if tail is not None else tuple(ordered)


def runs(segments: Sequence[Segment]) -> tuple[tuple[Segment, ...], ...]:
    """Return ``segments`` (ordered by number, without duplicates) cut into runs of
    consecutive numbers, oldest first."""
    cut: list[list[Segment]] = []
    for segment in segments:
        if cut and segment.number == cut[-1][-1].number + 1:
            cut[-1].append(segment)
        else:
            cut.append([segment])
    return tuple(tuple(run) for run in cut)


def wal_span(base: BaseBackup, wal_segment_size: int) -> tuple[int, int]:
    """Return the numbers of the first and last segments ``base`` needs to be
    consistent: from the one holding its start to the one holding the last byte
    before its end (the end is the position after its last record)."""
    first = segment_of(base.start_lsn, wal_segment_size)
    last = segment_of(max(base.end_lsn - 1, base.start_lsn), wal_segment_size)
    return first, last


def stream_windows(contents: StreamContents) -> tuple[Window, ...]:
    """Return the windows of one stream, oldest first.

    Each starts at the end (``finished_at``, ``end_lsn``) of its oldest usable base
    backup, not its start: a recovery told to stop before a base backup is
    consistent fails ("requested recovery stop point is before consistent recovery
    point"). It ends at what is proven: the stream's ``caught_up`` time, for the run
    that holds its location (the server's WAL was there then, and all of it up to
    there is in the run). Never at a file's time, which a copy changes and which says
    nothing of what the server wrote meanwhile. A run without that proof (one before
    a gap, or a stream that never caught up) is the instant its base backup ends: a
    recovery to its end (``latest``) still replays all of it. Base backups of another
    timeline never count.
    """
    stream = contents.stream
    size = stream.wal_segment_size
    cut = runs(received_segments(stream, contents.segments))
    bases = sorted(
        (b for b in contents.base_backups if b.timeline == stream.timeline),
        key=lambda b: (b.finished_at, b.end_lsn, b.name),
    )
    proof = contents.caught_up
    proven = None if proof is None else segment_of(max(proof.lsn - 1, 0), size)
    windows = []
    for index, run in enumerate(cut):
        first, last = run[0].number, run[-1].number
        usable = tuple(b for b in bases if _within(wal_span(b, size), first, last))
        if not usable:
            continue
        start = usable[0]
        end_at = start.finished_at
        if proof is not None and proven is not None and first <= proven <= last:
            end_at = max(proof.at, start.finished_at)
        windows.append(
            Window(
                stream=stream,
                start_at=start.finished_at,
                start_lsn=start.end_lsn,
                end_at=end_at,
                end_lsn=segment_start(last + 1, size),
                base_backups=usable,
                segments=run,
                gap_at=None
                if index == len(cut) - 1
                else segment_name(stream.timeline, last + 1, size),
            )
        )
    return tuple(windows)


def _within(span: tuple[int, int], first: int, last: int) -> bool:
    return first <= span[0] and span[1] <= last


def service_windows(streams: Iterable[StreamContents]) -> tuple[Window, ...]:
    """Return the windows of every stream of a service, oldest first (by start, then
    by stream)."""
    windows = [window for contents in streams for window in stream_windows(contents)]
    return tuple(sorted(windows, key=lambda w: (w.start_at, w.stream.started_at, w.stream.name)))


_MILLISECOND = timedelta(milliseconds=1)


def shown_bounds(window: Window) -> tuple[str, str]:
    """Return the window's start and end as people read them: UTC to the millisecond
    (whole seconds without it), the start rounded up and the end down, so that every
    time shown is in the window (``2026-12-04T10:00:00.250Z``); a window shorter than
    that rounding is shown to the microsecond."""
    start = window.start_at.astimezone(UTC)
    end = window.end_at.astimezone(UTC)
    rounded = start
    if start.microsecond % 1000:
        rounded = start.replace(microsecond=start.microsecond // 1000 * 1000) + _MILLISECOND
    if rounded > end.replace(microsecond=end.microsecond // 1000 * 1000):
        return _micros(start), _micros(end)
    return _millis(rounded), _millis(end)


def _micros(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _millis(at: datetime) -> str:
    if at.microsecond == 0:
        return at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
