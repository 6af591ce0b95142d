from __future__ import annotations

from datetime import timedelta

import attrs
from hypothesis import given
from hypothesis import strategies as st

from pg_backup_manager.domain.pitr.model import CaughtUp
from pg_backup_manager.domain.pitr.windows import (
    received_segments,
    service_windows,
    stream_windows,
    wal_span,
)
from tests.unit.pitr_builders import SIZE, a_stream, base, holding, minute, seg, segs

STREAM = a_stream()


def test_a_window_runs_from_the_end_of_its_base_backup_to_the_newest_segment() -> None:
    backup = base(2, 3)

    (window,) = stream_windows(holding(STREAM, (backup,), segs(1, 2, 3, 4, 5)))

    assert (window.start_at, window.start_lsn) == (backup.finished_at, backup.end_lsn)
    assert (window.end_at, window.end_lsn) == (minute(5), 6 * SIZE)
    assert window.base_backups == (backup,)
    assert window.ends_because == "newest received"


def test_the_partial_segment_at_the_tail_extends_the_window() -> None:
    tail = seg(6, partial=True, at=minute(5.5))

    (window,) = stream_windows(holding(STREAM, (base(2, 3),), (*segs(1, 2, 3, 4, 5), tail)))

    assert window.segments[-1] == tail
    assert (window.end_at, window.end_lsn) == (minute(5.5), 7 * SIZE)


def test_a_gap_ends_the_window_and_the_wal_after_it_is_no_window() -> None:
    backup = base(2)

    (window,) = stream_windows(holding(STREAM, (backup,), segs(1, 2, 3, 4, 5, 7, 8, 9)))

    # Nothing proves when the server wrote what came before the gap: the window is the
    # instant its base backup ends (a recovery to its end still replays all of it).
    assert window.end_at == window.start_at == backup.finished_at
    assert window.gap_at == "000000010000000000000006"
    assert window.ends_because == "gap: segment 000000010000000000000006 missing"


def test_a_base_backup_after_a_gap_starts_a_window_of_its_own() -> None:
    first, second = base(2), base(8)

    windows = stream_windows(holding(STREAM, (first, second), segs(1, 2, 3, 5, 6, 7, 8, 9)))

    assert [w.base_backups for w in windows] == [(first,), (second,)]
    assert [w.end_at for w in windows] == [first.finished_at, minute(9)]
    assert [w.gap_at for w in windows] == ["000000010000000000000004", None]


def test_a_base_backup_whose_wal_crosses_a_gap_is_not_usable() -> None:
    assert stream_windows(holding(STREAM, (base(3, 5),), segs(2, 3, 5, 6))) == ()


def test_a_base_backup_whose_first_segment_was_never_received_is_not_usable() -> None:
    assert stream_windows(holding(STREAM, (base(1, 2),), segs(2, 3, 4))) == ()


def test_a_base_backup_ending_on_a_segment_boundary_needs_nothing_of_the_next_segment() -> None:
    # The end is the position after the last record: here the first byte of segment 4.
    on_the_boundary = attrs.evolve(base(2, 3), end_lsn=4 * SIZE)

    assert wal_span(on_the_boundary, SIZE) == (2, 3)
    assert len(stream_windows(holding(STREAM, (on_the_boundary,), segs(2, 3)))) == 1


def test_the_oldest_usable_base_backup_starts_the_window_and_all_are_listed() -> None:
    older, newer, unusable = base(2), base(4), base(0)

    (window,) = stream_windows(holding(STREAM, (newer, unusable, older), segs(1, 2, 3, 4, 5)))

    assert window.start_at == older.finished_at
    assert window.base_backups == (older, newer)


def test_the_window_ends_where_the_stream_is_proven_complete_never_at_a_file_time() -> None:
    proof = CaughtUp(at=minute(3.5), lsn=3 * SIZE + 100)
    copied = tuple(seg(n, at=minute(60)) for n in (1, 2, 3))  # a copy's fresh file times

    (window,) = stream_windows(holding(STREAM, (base(2),), copied, caught_up=proof))

    assert window.end_at == minute(3.5)


def test_a_stream_never_proven_complete_is_the_instant_its_base_backup_ends() -> None:
    backup = base(2)

    (window,) = stream_windows(holding(STREAM, (backup,), segs(1, 2, 3), caught_up=None))

    assert window.end_at == window.start_at == backup.finished_at


def test_a_proof_in_wal_after_a_gap_never_extends_the_window_before_it() -> None:
    proof = CaughtUp(at=minute(10), lsn=5 * SIZE + 1)

    (window,) = stream_windows(holding(STREAM, (base(2),), segs(1, 2, 3, 5), caught_up=proof))

    assert window.end_at == window.start_at


def test_a_partial_below_a_complete_segment_is_stale_and_ignored() -> None:
    stale = seg(2, partial=True)

    assert received_segments(STREAM, (*segs(1, 2, 3), stale)) == segs(1, 2, 3)
    assert received_segments(STREAM, (*segs(1, 3), stale)) == segs(1, 3)


def test_of_several_partials_only_the_highest_counts() -> None:
    tail = seg(5, partial=True)

    assert received_segments(STREAM, (seg(4, partial=True), tail, *segs(1, 2))) == (
        *segs(1, 2),
        tail,
    )


def test_a_complete_segment_of_the_wrong_size_is_not_wal_received_and_ends_a_run() -> None:
    junk = attrs.evolve(seg(0x99), size=0, received_at=minute(0.5))
    tail = seg(5, partial=True, at=minute(5.5))
    short = attrs.evolve(seg(3), size=SIZE - 1)

    received = received_segments(STREAM, (*segs(1, 2, 3, 4), tail, junk))
    (window,) = stream_windows(holding(STREAM, (base(2, 3),), (*segs(1, 2, 3, 4), tail, junk)))
    cut = stream_windows(holding(STREAM, (base(1, 2),), (*segs(1, 2), short, seg(4))))

    assert received == (*segs(1, 2, 3, 4), tail)
    assert window.segments[-1] == tail and window.gap_at is None
    assert window.end_lsn == 6 * SIZE
    assert [(w.segments[-1], w.gap_at) for w in cut] == [(seg(2), seg(3).name)]


def test_a_lone_partial_holding_a_base_backup_is_a_window() -> None:
    (window,) = stream_windows(holding(STREAM, (base(1),), (seg(1, partial=True),)))

    assert window.segments == (seg(1, partial=True),)


def test_wal_and_base_backups_of_another_timeline_do_not_count() -> None:
    promoted = (seg(4, timeline=2), seg(5, timeline=2))

    proof = CaughtUp(at=minute(3), lsn=3 * SIZE + 1)
    (window,) = stream_windows(
        holding(
            STREAM, (base(2), base(4, timeline=2)), (*segs(1, 2, 3), *promoted), caught_up=proof
        )
    )

    assert window.end_at == minute(3)
    assert [b.timeline for b in window.base_backups] == [1]


def test_a_window_never_ends_before_it_starts() -> None:
    early = (seg(1), seg(2, at=minute(0.5)))

    (window,) = stream_windows(holding(STREAM, (base(2),), early))

    assert window.end_at == window.start_at


def test_nothing_to_replay_or_nothing_to_start_from_is_no_window() -> None:
    assert stream_windows(holding(STREAM, (base(2),), ())) == ()
    assert stream_windows(holding(STREAM, (), segs(1, 2, 3))) == ()


def test_windows_never_span_streams_and_come_oldest_first() -> None:
    old = a_stream(minute(0))
    new = a_stream(minute(100))
    old_window_base, new_window_base = base(2, stream=old), base(2, stream=new)
    new_wal = tuple(seg(n, at=minute(100 + n)) for n in (1, 2, 3))

    windows = service_windows(
        [
            holding(new, (new_window_base,), new_wal),
            holding(old, (old_window_base,), segs(1, 2, 3)),
        ]
    )

    assert [w.stream for w in windows] == [old, new]
    assert [w.end_at for w in windows] == [minute(3), minute(103)]


@st.composite
def layouts(draw: st.DrawFn) -> tuple[tuple[int, ...], tuple[tuple[int, int], ...]]:
    numbers = draw(st.sets(st.integers(min_value=0, max_value=30), max_size=25))
    spans = draw(
        st.lists(
            st.tuples(st.integers(0, 30), st.integers(0, 3)).map(lambda t: (t[0], t[0] + t[1])),
            max_size=5,
        )
    )
    return tuple(sorted(numbers)), tuple(spans)


@given(layouts())
def test_every_window_lies_in_wal_without_a_gap_and_holds_each_usable_base_backup(
    layout: tuple[tuple[int, ...], tuple[tuple[int, int], ...]],
) -> None:
    numbers, spans = layout
    bases = tuple(
        base(first, last, started_at=minute(first - 1) + timedelta(seconds=i))
        for i, (first, last) in enumerate(spans)
    )

    windows = stream_windows(holding(STREAM, bases, segs(*numbers)))

    received = set(numbers)
    for window in windows:
        held = [s.number for s in window.segments]
        assert held == list(range(held[0], held[-1] + 1))
        assert window.start_at <= window.end_at
        assert window.gap_at is None or held[-1] + 1 not in received
        for backup in window.base_backups:
            first, last = wal_span(backup, SIZE)
            assert held[0] <= first and last <= held[-1]
    listed = [b for w in windows for b in w.base_backups]
    for backup in bases:
        first, last = wal_span(backup, SIZE)
        assert (backup in listed) == received.issuperset(range(first, last + 1))
