"""The fakes of the locks, the clock and the heartbeat against their real adapters:
one set of checks for both, so the fakes stay honest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

import pytest

from pg_backup_manager.adapters.clock import SystemClock
from pg_backup_manager.adapters.monitoring.heartbeat import FileHeartbeat
from pg_backup_manager.adapters.storage.locks import DirectoryLocks
from pg_backup_manager.domain.errors import BusyError, ControllerError
from pg_backup_manager.domain.model import Layout
from pg_backup_manager.domain.monitoring.health import SchedulerState
from pg_backup_manager.domain.monitoring.ports import HeartbeatReader, HeartbeatWriter
from pg_backup_manager.domain.ports import Clock, Locks

from .fakes import FakeClock, FakeHeartbeat, FakeLocks

SINCE = datetime(2024, 7, 4, 9, 0, tzinfo=UTC)
UNTIL = datetime(2024, 7, 4, 15, 0, tzinfo=UTC)


class Heartbeat(HeartbeatWriter, HeartbeatReader, Protocol):
    """Both sides of a heartbeat: what a contract test writes, then reads."""


@pytest.fixture(params=["fake", "real"])
def locks(request: pytest.FixtureRequest, tmp_path: Path) -> Locks:
    if request.param == "fake":
        return FakeLocks()
    layout = Layout(data_root=tmp_path, shared_root=tmp_path, databases_root=tmp_path)
    return DirectoryLocks(layout=layout, wait_seconds=0)


@pytest.fixture(params=["fake", "real"])
def clock(request: pytest.FixtureRequest) -> Clock:
    return FakeClock() if request.param == "fake" else SystemClock()


@pytest.fixture(params=["fake", "real"])
def heartbeat(request: pytest.FixtureRequest, tmp_path: Path) -> Heartbeat:
    return FakeHeartbeat() if request.param == "fake" else FileHeartbeat(path=tmp_path / "beat")


def test_a_held_lock_makes_another_holder_busy_until_it_is_released(locks: Locks) -> None:
    with locks.hold("users"):
        with pytest.raises(BusyError), locks.hold("users"):
            pass
        with locks.hold("orders"):
            pass

    with locks.hold("users"):
        pass


README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_busy_message_names_every_operation_the_readmes_exit_4_row_names(
    tmp_path: Path,
) -> None:
    row = next(line for line in README.read_text().splitlines() if line.startswith("| `4` |"))
    named = row.split("another ", 1)[1].split(" of that database", 1)[0]
    operations = named.replace(" or ", ", ").split(", ")
    layout = Layout(data_root=tmp_path, shared_root=tmp_path, databases_root=tmp_path)
    locks = DirectoryLocks(layout=layout, wait_seconds=0)

    with locks.hold("users"), pytest.raises(BusyError) as raised, locks.hold("users"):
        pass

    assert f"busy: another {named} of users holds the lock" in str(raised.value)
    assert len(operations) == 6


def test_the_clock_tells_utc_and_moves_at_least_as_long_as_it_sleeps(clock: Clock) -> None:
    before = clock.now()

    clock.sleep(0.01)

    assert before.utcoffset() == timedelta(0)
    assert clock.now() - before >= timedelta(seconds=0.01)


def test_a_heartbeat_has_no_age_before_its_first_beat(heartbeat: Heartbeat) -> None:
    with pytest.raises(ControllerError, match="not running"):
        heartbeat.age()


def test_a_fresh_beat_is_young_and_a_busy_spell_beats_too(heartbeat: Heartbeat) -> None:
    with heartbeat.while_busy(since=SINCE, until=UNTIL):
        assert heartbeat.age() < 5

    heartbeat.beat()

    assert 0 <= heartbeat.age() < 5


def test_a_heartbeat_tells_the_run_it_waits_for_then_the_run_in_progress_and_its_bound(
    heartbeat: Heartbeat,
) -> None:
    heartbeat.waiting(SINCE)
    waiting = heartbeat.state()
    with heartbeat.while_busy(since=SINCE, until=UNTIL):
        busy = heartbeat.state()
    heartbeat.waiting(UNTIL)

    assert waiting == SchedulerState(due_at=SINCE)
    assert busy == SchedulerState(busy_since=SINCE, busy_until=UNTIL)
    assert heartbeat.state() == SchedulerState(due_at=UNTIL)
    assert 0 <= heartbeat.age() < 5
