"""The receiver supervisor's pure decisions: which stream to go on with, and backoff."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs
import pytest

from pg_backup_manager.domain.pitr.model import (
    CaughtUp,
    ServerIdentity,
    SlotState,
    Stream,
    StreamStart,
)
from pg_backup_manager.domain.pitr.supervision import (
    COMMIT_MARGIN,
    Backoff,
    Watch,
    new_stream_needed,
)

from .fakes import database
from .pitr_fakes import RightAway

T0 = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
IDENTITY = ServerIdentity(
    system_identifier="7400000000000000001",
    timeline=1,
    current_lsn=0x3000000,
    wal_segment_size=16 << 20,
    server_major=17,
)
STREAM = Stream(
    name="2026-12-04T11:00:00Z",
    started_at=T0 - timedelta(hours=1),
    system_identifier=IDENTITY.system_identifier,
    timeline=1,
    wal_segment_size=16 << 20,
    server_major=17,
    slot="pg_backup_manager_app",
    why=StreamStart.FIRST,
)


def slot(wal_status: str = "reserved") -> SlotState:
    return SlotState(
        name=STREAM.slot,
        active=False,
        restart_lsn=0x2000000,
        wal_status=wal_status,
        safe_wal_size=None,
        retained_bytes=1 << 20,
    )


def test_the_same_server_timeline_and_slot_go_on_in_the_same_stream() -> None:
    assert new_stream_needed(STREAM, IDENTITY, slot(), received=True) is None
    assert new_stream_needed(STREAM, IDENTITY, slot("extended"), received=True) is None


def test_no_stream_yet_is_the_first() -> None:
    assert new_stream_needed(None, IDENTITY, None, received=False) is StreamStart.FIRST


def test_another_cluster_behind_the_service_begins_a_new_stream() -> None:
    other = ServerIdentity(
        system_identifier="7400000000000000999",
        timeline=1,
        current_lsn=0x100,
        wal_segment_size=16 << 20,
        server_major=17,
    )
    assert new_stream_needed(STREAM, other, slot(), received=True) is StreamStart.NEW_SERVER


def test_a_promoted_recovery_begins_a_new_stream() -> None:
    promoted = ServerIdentity(
        system_identifier=IDENTITY.system_identifier,
        timeline=2,
        current_lsn=0x5000000,
        wal_segment_size=16 << 20,
        server_major=17,
    )
    assert new_stream_needed(STREAM, promoted, None, received=True) is StreamStart.NEW_TIMELINE


@pytest.mark.parametrize("found", [None, slot("lost")], ids=["dropped", "invalidated"])
def test_a_slot_that_may_have_let_wal_go_begins_a_new_stream(found: SlotState | None) -> None:
    assert new_stream_needed(STREAM, IDENTITY, found, received=True) is StreamStart.SLOT_LOST


def test_a_stream_that_received_nothing_goes_on_with_a_new_slot() -> None:
    assert new_stream_needed(STREAM, IDENTITY, None, received=False) is None


def test_backoff_doubles_to_a_minute_and_starts_over_after_a_steady_run() -> None:
    backoff = Backoff()
    waits = [backoff.after_failure(up_since=None, now=T0).total_seconds() for _ in range(8)]
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60]
    steady = backoff.after_failure(up_since=T0, now=T0 + timedelta(minutes=10))
    assert steady == timedelta(seconds=1)
    short_run = backoff.after_failure(up_since=T0, now=T0 + timedelta(seconds=30))
    assert short_run == timedelta(seconds=2)


def a_watch() -> Watch:
    return Watch(database=database(), backoff=Backoff(), pool=RightAway())


def read(restart: int, insert: int, at: datetime, *, active: bool = True) -> SlotState:
    return attrs.evolve(
        slot(), active=active, restart_lsn=restart, insert_lsn=insert, server_time=at
    )


def test_a_receiver_flushed_up_to_the_server_proves_all_commits_before_that_read() -> None:
    watch = a_watch()

    proof = watch.progress(read(0x3000000, 0x3000000, T0))

    assert proof == CaughtUp(at=T0 - COMMIT_MARGIN, lsn=0x3000000)
    assert watch.caught_up_at == T0 - COMMIT_MARGIN


def test_a_receiver_behind_proves_an_earlier_read_once_it_has_flushed_past_it() -> None:
    watch = a_watch()
    later = T0 + timedelta(seconds=10)

    assert watch.progress(read(0x1000000, 0x2000000, T0)) is None
    assert watch.progress(read(0x1800000, 0x2800000, later)) is None  # not past 0x2000000 yet
    proof = watch.progress(read(0x2000000, 0x3000000, later + timedelta(seconds=10)))

    assert proof == CaughtUp(at=T0 - COMMIT_MARGIN, lsn=0x2000000)  # the first read, kept


def test_a_receiver_without_a_connection_or_a_flush_while_the_server_writes_stalls() -> None:
    watch = a_watch()
    later = T0 + timedelta(seconds=70)

    assert watch.stalled(read(0x1000000, 0x2000000, T0), T0) is None  # the first look
    assert watch.stalled(read(0x1000000, 0x2400000, T0), T0) == timedelta(0)
    assert watch.stalled(read(0x1000000, 0x2800000, later), later) == timedelta(seconds=70)
    assert watch.stalled(read(0x1800000, 0x2800000, later), later) is None  # it flushed
    gone = read(0x1800000, 0x1800000, later, active=False)
    assert watch.stalled(gone, later) == timedelta(0)  # the server sees no connection
    assert watch.stalled(read(0x1800000, 0x1800000, later), later) is None  # idle, in step
