from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import attrs
import pytest

from pg_backup_manager.domain.errors import BackupNotFoundError, ConfigurationError
from pg_backup_manager.domain.pitr.recovery.plan import (
    LATEST,
    choose_source,
    describe_windows,
    plan_recovery,
    quote_setting,
)
from pg_backup_manager.domain.pitr.windows import service_windows, stream_windows
from tests.unit.pitr_builders import a_stream, base, holding, minute, seg, segs

STREAM = a_stream()
FIRST, SECOND = base(2, 3), base(5)
TAIL = seg(8, partial=True, at=minute(7.5))
WINDOWS = stream_windows(holding(STREAM, (FIRST, SECOND), (*segs(1, 2, 3, 4, 5, 6, 7), TAIL)))
ALWAYS = (
    "restore_command = 'cp pg_backup_wal/%f \"%p\"'",
    "recovery_end_command = 'rm -rf pg_backup_wal'",
    "recovery_target_timeline = 'current'",
)


def test_latest_starts_from_the_newest_base_backup_and_copies_its_wal_to_the_end() -> None:
    source = choose_source(WINDOWS, LATEST)

    assert source.base_backup == SECOND
    assert [c.segment.number for c in source.wal] == [5, 6, 7, 8]


def test_the_partial_segment_is_copied_under_its_segment_name() -> None:
    source = choose_source(WINDOWS, LATEST)

    assert source.wal[-1].segment == TAIL
    assert source.wal[-1].name == "000000010000000000000008"
    assert source.wal[0].name == source.wal[0].segment.name


def test_latest_writes_no_target_and_replays_to_the_end() -> None:
    plan = plan_recovery(choose_source(WINDOWS, LATEST), target=LATEST, last_commit_at=None)

    assert plan.settings == ALWAYS
    assert plan.target is None
    assert plan.note is None


def test_a_time_starts_from_the_newest_base_backup_finished_by_then() -> None:
    assert choose_source(WINDOWS, minute(3)).base_backup == FIRST
    assert choose_source(WINDOWS, SECOND.finished_at).base_backup == SECOND
    assert [c.segment.number for c in choose_source(WINDOWS, minute(3)).wal] == list(range(2, 9))


def test_a_time_target_recovers_to_that_time_inclusive_and_promotes() -> None:
    target = datetime(2026, 12, 4, 11, 4, 30, 250_000, tzinfo=timezone(timedelta(hours=1)))

    plan = plan_recovery(choose_source(WINDOWS, target), target=target, last_commit_at=minute(7))

    assert plan.settings == (
        *ALWAYS,
        "recovery_target_time = '2026-12-04T10:04:30.250000+00:00'",
        "recovery_target_inclusive = true",
        "recovery_target_action = 'promote'",
    )
    assert plan.target == target
    assert plan.target.tzinfo is UTC


@pytest.mark.parametrize("last_commit_at", [minute(4), minute(4.5), None])
def test_a_target_with_no_commit_after_it_replays_to_the_end_instead_and_says_so(
    last_commit_at: datetime | None,
) -> None:
    target = minute(4.5)

    plan = plan_recovery(
        choose_source(WINDOWS, target), target=target, last_commit_at=last_commit_at
    )

    assert plan.settings == ALWAYS
    assert plan.target is None
    assert plan.note is not None
    assert plan.note.startswith("nothing was committed after 2026-12-04T10:04:30Z in the WAL")


def test_the_window_edges_are_in_the_window() -> None:
    (window,) = WINDOWS

    assert choose_source(WINDOWS, window.start_at).window == window
    assert choose_source(WINDOWS, window.end_at).window == window


@pytest.mark.parametrize("target", [FIRST.finished_at - timedelta(microseconds=1), minute(8)])
def test_a_time_outside_every_window_is_a_configuration_error_naming_it(
    target: datetime,
) -> None:
    with pytest.raises(ConfigurationError) as raised:
        choose_source(WINDOWS, target)

    assert raised.value.exit_code == 2
    message = str(raised.value)
    assert "\n" not in message
    assert message.endswith("the window is 2026-12-04T10:02:30Z .. 2026-12-04T10:07:30Z")


def test_with_several_windows_the_error_names_each_and_the_newest() -> None:
    old, new = a_stream(minute(0)), a_stream(minute(100))
    later = base(2, stream=new, started_at=minute(101) + timedelta(seconds=10))
    windows = service_windows(
        [
            holding(old, (base(2, stream=old),), segs(1, 2, 3)),
            holding(new, (later,), tuple(seg(n, at=minute(100 + n)) for n in (2, 3))),
        ]
    )

    with pytest.raises(ConfigurationError, match="in no recoverable window") as raised:
        choose_source(windows, minute(50))

    assert str(raised.value) == (
        "2026-12-04T10:50:00Z is in no recoverable window (times in UTC): the windows are "
        "2026-12-04T10:01:30Z .. 2026-12-04T10:03:00Z, "
        "2026-12-04T11:41:10Z .. 2026-12-04T11:43:00Z (the newest)"
    )


def test_when_windows_overlap_the_newest_holds_the_time() -> None:
    old, new = a_stream(minute(0)), a_stream(minute(1))
    windows = service_windows(
        [
            holding(old, (base(2, stream=old),), segs(1, 2, 3, 4, 5)),
            holding(new, (base(3, stream=new),), segs(3, 4)),
        ]
    )

    assert choose_source(windows, minute(3.5)).window.stream == new


def test_nothing_to_recover_from_is_said_as_such() -> None:
    with pytest.raises(BackupNotFoundError, match="no base backup with the WAL it needs"):
        choose_source((), LATEST)


def test_a_naive_time_is_a_bug() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        choose_source(WINDOWS, datetime(2026, 12, 4, 10, 5))


def test_a_window_is_shown_to_the_millisecond_with_every_time_shown_in_it() -> None:
    (window,) = WINDOWS
    shown = attrs.evolve(
        window,
        start_at=window.start_at + timedelta(microseconds=400_100),
        end_at=window.end_at + timedelta(microseconds=900_900),
    )

    assert describe_windows([shown]) == "2026-12-04T10:02:30.401Z .. 2026-12-04T10:07:30.900Z"


def test_a_setting_is_quoted_as_postgresql_reads_it() -> None:
    assert quote_setting("it's") == "'it''s'"
    assert quote_setting("C:\\wal") == "'C:\\\\wal'"


@pytest.mark.parametrize("value", ["a\nb", "a\rb", "a\0b"])
def test_no_setting_spans_lines(value: str) -> None:
    with pytest.raises(ValueError, match="cannot be written"):
        quote_setting(value)
