from __future__ import annotations

from datetime import datetime, timedelta

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pg_backup_manager.domain.pitr.model import StreamContents
from pg_backup_manager.domain.pitr.retention import PitrRetentionPlan, Why, plan_pitr_retention
from pg_backup_manager.domain.pitr.wal_names import segment_of
from pg_backup_manager.domain.pitr.windows import service_windows
from tests.unit.pitr_builders import SIZE, a_stream, base, holding, minute, seg, segs

NOW = minute(0) + timedelta(days=30)
OLD = a_stream(minute(0))
LIVE = a_stream(minute(1))


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def test_base_backups_within_retention_are_kept_and_older_ones_deleted() -> None:
    past, edge, young = (
        base(2, started_at=days_ago(8)),
        base(4, started_at=days_ago(7)),
        base(6, started_at=days_ago(1)),
    )

    plan = plan_pitr_retention(
        [holding(LIVE, (past, edge, young), segs(*range(1, 8)))], now=NOW, retention_days=7
    )

    (stream,) = plan.streams
    assert [(v.base, v.keep, v.why) for v in stream.base_backups] == [
        (past, False, Why.PAST_RETENTION),
        (edge, True, Why.WITHIN_RETENTION),
        (young, True, Why.NEWEST),
    ]


def test_wal_before_the_oldest_kept_base_backup_is_deleted_and_the_rest_kept() -> None:
    bases = (
        base(2, started_at=days_ago(9)),
        base(3, started_at=days_ago(8)),
        base(4, started_at=days_ago(1)),
    )

    plan = plan_pitr_retention(
        [holding(LIVE, bases, segs(*range(1, 8)))], now=NOW, retention_days=7
    )

    (stream,) = plan.streams
    assert stream.bases_to_delete == bases[:1]
    assert stream.segments_to_delete == segs(1, 2)
    assert {v.why for v in stream.segments if v.keep} == {Why.NEEDED}


def test_the_base_backup_a_recovery_to_the_start_of_the_retention_needs_is_kept() -> None:
    # Daily base backups, segment n received n days ago: 7 days back must stay recoverable.
    bases = tuple(base(20 - d, started_at=days_ago(d) - timedelta(hours=1)) for d in range(10))
    wal = tuple(seg(n, at=days_ago(20 - n)) for n in range(10, 21))
    before = [holding(LIVE, bases, wal)]

    plan = plan_pitr_retention(before, now=NOW, retention_days=7)

    (stream,) = plan.streams
    assert [v.why for v in stream.base_backups][:4] == [
        Why.PAST_RETENTION,
        Why.PAST_RETENTION,
        Why.WINDOW_START,
        Why.WITHIN_RETENTION,
    ]
    (window,) = service_windows(applied(before, plan))
    assert window.holds(days_ago(7))
    assert not window.holds(days_ago(7) - timedelta(hours=2))


def test_a_stream_that_ended_before_the_retention_keeps_nothing_for_its_start() -> None:
    old = (
        base(2, stream=OLD, started_at=days_ago(20)),
        base(3, stream=OLD, started_at=days_ago(15)),
    )

    plan = plan_pitr_retention(
        [
            holding(OLD, old, tuple(seg(n, at=days_ago(14)) for n in (2, 3, 4))),
            holding(LIVE, (base(2, stream=LIVE, started_at=days_ago(1)),), segs(2)),
        ],
        now=NOW,
        retention_days=7,
    )

    assert plan.streams_to_delete == (OLD,)


def test_the_newest_base_backup_is_kept_however_old() -> None:
    ancient = base(2, started_at=days_ago(400))

    plan = plan_pitr_retention([holding(LIVE, (ancient,), segs(2, 3))], now=NOW, retention_days=7)

    assert plan.deletes_nothing
    assert plan.streams[0].base_backups[0].why is Why.NEWEST


def test_an_old_stream_with_no_kept_base_backup_is_deleted_whole() -> None:
    plan = plan_pitr_retention(
        [
            holding(OLD, (base(2, stream=OLD, started_at=days_ago(20)),), segs(1, 2, 3)),
            holding(LIVE, (base(2, stream=LIVE, started_at=days_ago(1)),), segs(1, 2)),
        ],
        now=NOW,
        retention_days=7,
    )

    assert plan.streams_to_delete == (OLD,)
    assert plan.streams[0].segments_to_delete == segs(1, 2, 3)
    assert plan.streams[0].why is Why.NO_KEPT_BASE


def test_an_old_stream_keeps_its_wal_from_its_oldest_kept_base_backup() -> None:
    plan = plan_pitr_retention(
        [
            holding(OLD, (base(3, stream=OLD, started_at=days_ago(5)),), segs(1, 2, 3, 4)),
            holding(LIVE, (base(2, stream=LIVE, started_at=days_ago(1)),), segs(1, 2)),
        ],
        now=NOW,
        retention_days=7,
    )

    assert plan.streams_to_delete == ()
    assert plan.streams[0].why is Why.HOLDS_KEPT_BASE
    assert plan.streams[0].segments_to_delete == segs(1, 2)


def test_the_live_stream_without_a_base_backup_keeps_all_its_wal() -> None:
    plan = plan_pitr_retention(
        [
            holding(OLD, (base(2, stream=OLD, started_at=days_ago(20)),), segs(1, 2, 3)),
            holding(LIVE, (), segs(1, 2, 3)),
        ],
        now=NOW,
        retention_days=7,
    )

    old, live = plan.streams
    assert old.keep and old.why is Why.HOLDS_KEPT_BASE  # the newest base backup is there
    assert live.keep and live.why is Why.LIVE
    assert live.segments_to_delete == ()
    assert {v.why for v in live.segments} == {Why.LIVE_WITHOUT_KEPT_BASE}


def test_a_base_backup_dated_in_the_future_is_kept_and_keeps_the_newest_real_one() -> None:
    future = base(4, started_at=NOW + timedelta(days=2))
    real = base(2, started_at=days_ago(20))

    plan = plan_pitr_retention(
        [holding(LIVE, (real, future), segs(2, 3, 4))], now=NOW, retention_days=7
    )

    assert plan.deletes_nothing
    assert [v.why for v in plan.streams[0].base_backups] == [Why.NEWEST, Why.FUTURE]


def test_a_negative_retention_is_a_bug() -> None:
    with pytest.raises(ValueError, match="negative"):
        plan_pitr_retention([], now=NOW, retention_days=-1)


@st.composite
def services(draw: st.DrawFn) -> list[StreamContents]:
    streams = []
    for index in range(draw(st.integers(min_value=1, max_value=3))):
        stream = a_stream(minute(index * 1000))
        numbers = draw(st.sets(st.integers(min_value=0, max_value=20), max_size=15))
        firsts = draw(st.lists(st.integers(min_value=0, max_value=20), max_size=4))
        ages = draw(st.lists(st.floats(-2, 30), min_size=len(firsts), max_size=len(firsts)))
        bases = tuple(
            base(first, first + 1, stream=stream, started_at=days_ago(age))
            for first, age in zip(firsts, ages, strict=True)
        )
        streams.append(holding(stream, bases, segs(*sorted(numbers))))
    return streams


def applied(streams: list[StreamContents], plan: PitrRetentionPlan) -> list[StreamContents]:
    after = []
    for contents, verdicts in zip(streams, plan.streams, strict=True):
        if verdicts.keep:
            after.append(
                attrs.evolve(
                    contents,
                    base_backups=tuple(v.base for v in verdicts.base_backups if v.keep),
                    segments=tuple(v.segment for v in verdicts.segments if v.keep),
                )
            )
    return after


@given(services(), st.integers(min_value=0, max_value=14))
def test_the_newest_base_backup_is_never_deleted(
    streams: list[StreamContents], retention_days: int
) -> None:
    every = [b for c in streams for b in c.base_backups if b.started_at <= NOW]

    plan = plan_pitr_retention(streams, now=NOW, retention_days=retention_days)

    if every:
        newest = max(every, key=lambda b: (b.started_at, b.name))
        assert newest not in plan.bases_to_delete


@given(services(), st.integers(min_value=0, max_value=14))
def test_no_segment_a_kept_base_backup_needs_to_reach_the_newest_wal_is_deleted(
    streams: list[StreamContents], retention_days: int
) -> None:
    plan = plan_pitr_retention(streams, now=NOW, retention_days=retention_days)

    for stream in plan.streams:
        deleted = {s.number for s in stream.segments_to_delete}
        for verdict in stream.base_backups:
            if verdict.keep:
                assert stream.keep
                assert all(n < segment_of(verdict.base.start_lsn, SIZE) for n in deleted)


@given(services(), st.integers(min_value=0, max_value=14))
def test_the_live_stream_is_never_deleted(
    streams: list[StreamContents], retention_days: int
) -> None:
    plan = plan_pitr_retention(streams, now=NOW, retention_days=retention_days)

    assert plan.streams[-1].keep


@given(services(), st.integers(min_value=0, max_value=14))
def test_retention_applied_once_has_nothing_left_to_delete(
    streams: list[StreamContents], retention_days: int
) -> None:
    plan = plan_pitr_retention(streams, now=NOW, retention_days=retention_days)

    again = plan_pitr_retention(applied(streams, plan), now=NOW, retention_days=retention_days)

    assert again.deletes_nothing
