"""Builders of point-in-time recovery values for the unit tests: streams, segments and
base backups placed by segment number, so a test reads as a layout of WAL.

Segment ``n`` holds the WAL written in the minute before ``T0 + n minutes`` and is
received then; a base backup from segment ``a`` to ``b`` starts 10 s into ``a``'s
minute and finishes 30 s into ``b``'s.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pg_backup_manager.domain.pitr.model import (
    BaseBackup,
    CaughtUp,
    Segment,
    Stream,
    StreamContents,
    StreamStart,
)
from pg_backup_manager.domain.pitr.naming import utc_name
from pg_backup_manager.domain.pitr.wal_names import segment_name, segment_start

SIZE = 16 * 1024 * 1024
T0 = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)


def minute(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def a_stream(started_at: datetime = T0, *, timeline: int = 1, size: int = SIZE) -> Stream:
    return Stream(
        name=utc_name(started_at),
        started_at=started_at,
        system_identifier="7301234567890123456",
        timeline=timeline,
        wal_segment_size=size,
        server_major=17,
        slot="pg_backup_manager_app",
        why=StreamStart.FIRST,
    )


def seg(
    number: int,
    *,
    timeline: int = 1,
    partial: bool = False,
    at: datetime | None = None,
    size: int = SIZE,
) -> Segment:
    name = segment_name(timeline, number, size) + (".partial" if partial else "")
    return Segment(
        name=name,
        timeline=timeline,
        number=number,
        size=size,
        received_at=at if at is not None else minute(number),
        partial=partial,
    )


def segs(*numbers: int) -> tuple[Segment, ...]:
    return tuple(seg(n) for n in numbers)


def base(
    first: int,
    last: int | None = None,
    *,
    stream: Stream | None = None,
    started_at: datetime | None = None,
    timeline: int = 1,
    size: int = SIZE,
) -> BaseBackup:
    """A base backup whose WAL runs from segment ``first`` to segment ``last``."""
    end = first if last is None else last
    start_at = started_at if started_at is not None else minute(first - 1) + timedelta(seconds=10)
    return BaseBackup(
        name=utc_name(start_at),
        stream=(stream or a_stream()).name,
        started_at=start_at,
        finished_at=max(minute(end - 1) + timedelta(seconds=30), start_at),
        start_lsn=first * size + 0x28,
        end_lsn=end * size + 0x100,
        timeline=timeline,
        server_major=17,
        size=1000,
    )


_AT_THE_TAIL = object()


def holding(
    stream: Stream,
    bases: tuple[BaseBackup, ...] = (),
    segments: tuple[Segment, ...] = (),
    caught_up: CaughtUp | object | None = _AT_THE_TAIL,
) -> StreamContents:
    """A stream holding ``bases`` and ``segments``, proven complete (``caught_up``) up to
    its newest segment's time by default: a receiver that kept up."""
    if caught_up is _AT_THE_TAIL:
        newest = max(segments, key=lambda s: (s.number, s.partial), default=None)
        caught_up = (
            None
            if newest is None
            else CaughtUp(at=newest.received_at, lsn=segment_start(newest.number, SIZE) + 1)
        )
    assert caught_up is None or isinstance(caught_up, CaughtUp)
    return StreamContents(stream=stream, base_backups=bases, segments=segments, caught_up=caught_up)
