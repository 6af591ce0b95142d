"""Pure rules: which base backups, WAL segments and streams of a service point-in-time
retention keeps, and why (the plan ``prune --dry-run`` prints).

Base backups are kept for ``PITR_RETENTION_DAYS``, and the newest always. So that the
window an operator can go back to is really that long, each stream also keeps the
newest base backup that finished before it began (a recovery to its first second
starts there), as Barman's recovery window and pgBackRest's time retention do. A segment
is kept when a kept base backup of its stream may need it: at or after the segment
holding the start of the oldest kept base backup of its stream, through the newest
WAL. A stream with no kept base backup is deleted whole, unless it is the live one
(the newest, which the receiver writes): its WAL is the start of the next window.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime, timedelta

import attrs

from pg_backup_manager.domain.pitr.model import BaseBackup, Segment, Stream, StreamContents
from pg_backup_manager.domain.pitr.wal_names import segment_of
from pg_backup_manager.domain.pitr.windows import newest_stream


class Why(enum.Enum):
    """Why retention keeps or deletes a base backup, a segment or a stream."""

    FUTURE = "dated in the future"
    NEWEST = "the newest base backup"
    WITHIN_RETENTION = "within PITR_RETENTION_DAYS"
    WINDOW_START = "recovers to PITR_RETENTION_DAYS ago"
    PAST_RETENTION = "past PITR_RETENTION_DAYS"
    NEEDED = "at or after the start of the oldest kept base backup"
    BEFORE_OLDEST_KEPT = "before the start of the oldest kept base backup"
    LIVE_WITHOUT_KEPT_BASE = "the live stream, no kept base backup yet"
    HOLDS_KEPT_BASE = "holds a kept base backup"
    LIVE = "the live stream"
    NO_KEPT_BASE = "no base backup kept"


@attrs.frozen(kw_only=True)
class BaseVerdict:
    """What retention decided for one base backup, and why."""

    base: BaseBackup
    keep: bool
    why: Why


@attrs.frozen(kw_only=True)
class SegmentVerdict:
    """What retention decided for one segment, and why."""

    segment: Segment
    keep: bool
    why: Why


@attrs.frozen(kw_only=True)
class StreamPlan:
    """What retention decided for one stream: kept (``keep``, then some of its base
    backups and segments may still go) or deleted whole, why, and the verdict on each
    base backup (oldest first) and each segment (by number)."""

    stream: Stream
    keep: bool
    why: Why
    base_backups: tuple[BaseVerdict, ...]
    segments: tuple[SegmentVerdict, ...]

    @property
    def bases_to_delete(self) -> tuple[BaseBackup, ...]:
        """Return the base backups this plan deletes (all of them when the stream goes)."""
        return tuple(v.base for v in self.base_backups if not v.keep)

    @property
    def segments_to_delete(self) -> tuple[Segment, ...]:
        """Return the segments this plan deletes (all of them when the stream goes)."""
        return tuple(v.segment for v in self.segments if not v.keep)


@attrs.frozen(kw_only=True)
class PitrRetentionPlan:
    """The verdicts on every stream of one service, oldest first."""

    streams: tuple[StreamPlan, ...]

    @property
    def streams_to_delete(self) -> tuple[Stream, ...]:
        """Return the streams this plan deletes whole (directory and all)."""
        return tuple(p.stream for p in self.streams if not p.keep)

    @property
    def bases_to_delete(self) -> tuple[BaseBackup, ...]:
        """Return every base backup this plan deletes, in streams kept or not."""
        return tuple(b for p in self.streams for b in p.bases_to_delete)

    @property
    def deletes_nothing(self) -> bool:
        """Return whether the plan leaves every file where it is."""
        return all(
            p.keep and not p.bases_to_delete and not p.segments_to_delete for p in self.streams
        )


def plan_pitr_retention(
    streams: Iterable[StreamContents], *, now: datetime, retention_days: int
) -> PitrRetentionPlan:
    """Return what to keep and delete of a service's streams at ``now``.

    A base backup is kept while its age (``now`` minus the start its name records) is
    at most ``retention_days`` days, or when it is the newest of the service, however
    old (a service never loses its last base backup), or when it is the newest of its
    stream to have finished by ``now - retention_days`` and the stream received WAL
    after that moment (or is the live one): a recovery to any time in the last
    ``retention_days`` days needs a base backup finished before it. One dated after ``now`` (the
    clock went backwards) is kept and is not the newest: a wrong clock cannot push a
    real base backup out. In a stream that keeps a base backup, a segment is kept when
    its number is at or after the segment holding the earliest start of the stream's
    kept base backups, and deleted before it. A stream that keeps no base backup is
    deleted whole, except the live stream (the newest): it keeps every segment.

    Raises:
        ValueError: ``retention_days`` is negative.
    """
    if retention_days < 0:
        raise ValueError(f"retention_days must not be negative, got {retention_days}")
    every = sorted(streams, key=lambda c: (c.stream.started_at, c.stream.name))
    live = newest_stream(every)
    newest = max(
        (b for c in every for b in c.base_backups if b.started_at <= now),
        key=lambda b: (b.started_at, b.name),
        default=None,
    )
    kept_for = timedelta(days=retention_days)
    plans = []
    for contents in every:
        start = _window_start(contents, since=now - kept_for, live=contents is live)
        verdicts = tuple(
            _judge_base(base, newest=newest, start=start, now=now, kept_for=kept_for)
            for base in sorted(contents.base_backups, key=lambda b: (b.started_at, b.name))
        )
        plans.append(_plan_stream(contents, verdicts, live=contents is live))
    return PitrRetentionPlan(streams=tuple(plans))


def _window_start(contents: StreamContents, *, since: datetime, live: bool) -> BaseBackup | None:
    """Return the base backup a recovery to ``since`` in this stream starts from: the
    newest finished by then, when the stream goes on past ``since`` (None: it ended
    before, or no base backup had finished)."""
    goes_on = live or any(s.received_at > since for s in contents.segments)
    finished = (b for b in contents.base_backups if b.finished_at <= since)
    best = max(finished, key=lambda b: (b.finished_at, b.name), default=None)
    return best if goes_on else None


def _judge_base(
    base: BaseBackup,
    *,
    newest: BaseBackup | None,
    start: BaseBackup | None,
    now: datetime,
    kept_for: timedelta,
) -> BaseVerdict:
    if base == newest:
        return BaseVerdict(base=base, keep=True, why=Why.NEWEST)
    if base.started_at > now:
        return BaseVerdict(base=base, keep=True, why=Why.FUTURE)
    if now - base.started_at <= kept_for:
        return BaseVerdict(base=base, keep=True, why=Why.WITHIN_RETENTION)
    if base == start:
        return BaseVerdict(base=base, keep=True, why=Why.WINDOW_START)
    return BaseVerdict(base=base, keep=False, why=Why.PAST_RETENTION)


def _plan_stream(
    contents: StreamContents, verdicts: tuple[BaseVerdict, ...], *, live: bool
) -> StreamPlan:
    stream = contents.stream
    segments = sorted(contents.segments, key=lambda s: (s.number, s.partial, s.name))
    kept = [v.base for v in verdicts if v.keep]
    if kept:
        first = min(segment_of(b.start_lsn, stream.wal_segment_size) for b in kept)
        return StreamPlan(
            stream=stream,
            keep=True,
            why=Why.LIVE if live else Why.HOLDS_KEPT_BASE,
            base_backups=verdicts,
            segments=tuple(
                SegmentVerdict(segment=s, keep=True, why=Why.NEEDED)
                if s.number >= first
                else SegmentVerdict(segment=s, keep=False, why=Why.BEFORE_OLDEST_KEPT)
                for s in segments
            ),
        )
    if live:
        why = Why.LIVE_WITHOUT_KEPT_BASE
        return StreamPlan(
            stream=stream,
            keep=True,
            why=Why.LIVE,
            base_backups=verdicts,
            segments=tuple(SegmentVerdict(segment=s, keep=True, why=why) for s in segments),
        )
    return StreamPlan(
        stream=stream,
        keep=False,
        why=Why.NO_KEPT_BASE,
        base_backups=verdicts,
        segments=tuple(
            SegmentVerdict(segment=s, keep=False, why=Why.NO_KEPT_BASE) for s in segments
        ),
    )
