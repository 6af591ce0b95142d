from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from pg_backup_manager.adapters.cron import CronSchedule
from pg_backup_manager.domain.backups.timetable import Schedules
from pg_backup_manager.domain.monitoring.health import SchedulerState
from pg_backup_manager.entrypoints.loop import run_schedule, wait_until

from .fakes import FakeClock, FakeHeartbeat

BOUND = timedelta(hours=2)
USERS = ("users",)


def common(expression: str) -> Schedules:
    """Every service on ``expression`` (BACKUP_SCHEDULE), in UTC."""
    return Schedules(common=CronSchedule.parse(expression, "UTC"))


def bound(databases: int) -> timedelta:
    return BOUND


def run_users(
    expression: str,
    clock: FakeClock,
    job: Callable[[tuple[str, ...]], object],
    runs: int,
    heartbeat: FakeHeartbeat | None = None,
) -> None:
    """Run the scheduler for ``runs`` runs of one service on ``expression``."""
    run_schedule(
        schedules=common(expression),
        identifiers=USERS,
        clock=clock,
        bound=bound,
        job=job,
        heartbeat=heartbeat,
        runs=runs,
    )


def test_waiting_naps_at_most_a_minute_at_a_time_until_the_time_comes() -> None:
    clock = FakeClock(current=datetime(2024, 7, 4, 8, 57, 30, tzinfo=UTC))

    wait_until(datetime(2024, 7, 4, 9, 0, tzinfo=UTC), clock=clock)

    assert clock.naps == [60.0, 60.0, 30.0]
    assert clock.now() == datetime(2024, 7, 4, 9, 0, tzinfo=UTC)


def test_the_schedule_runs_the_job_at_each_scheduled_time() -> None:
    clock = FakeClock(current=datetime(2024, 7, 4, 8, 0, tzinfo=UTC))
    runs: list[datetime] = []

    run_users("0 3,9,15,21 * * *", clock, lambda due: runs.append(clock.now()), 3)

    assert runs == [
        datetime(2024, 7, 4, 9, 0, tzinfo=UTC),
        datetime(2024, 7, 4, 15, 0, tzinfo=UTC),
        datetime(2024, 7, 4, 21, 0, tzinfo=UTC),
    ]


def test_a_run_that_outlasts_the_interval_skips_the_times_it_covered() -> None:
    clock = FakeClock(current=datetime(2024, 7, 4, 8, 0, tzinfo=UTC))
    runs: list[datetime] = []

    def long_job(due: tuple[str, ...]) -> None:
        runs.append(clock.now())
        clock.sleep(7 * 3600)

    run_users("0 3,9,15,21 * * *", clock, long_job, 2)

    assert runs == [
        datetime(2024, 7, 4, 9, 0, tzinfo=UTC),
        datetime(2024, 7, 4, 21, 0, tzinfo=UTC),
    ]


def test_a_job_that_crashes_does_not_stop_the_schedule() -> None:
    clock = FakeClock(current=datetime(2024, 7, 4, 8, 0, tzinfo=UTC))
    runs: list[datetime] = []

    def flaky(due: tuple[str, ...]) -> None:
        runs.append(clock.now())
        if len(runs) == 1:
            raise RuntimeError("boom")

    run_users("0 * * * *", clock, flaky, 2)

    assert len(runs) == 2


def test_the_scheduler_beats_at_every_nap_and_stays_beating_through_each_run() -> None:
    clock = FakeClock(current=datetime(2024, 7, 4, 8, 57, 30, tzinfo=UTC))
    heartbeat = FakeHeartbeat(clock=clock)

    run_users("0 9 * * *", clock, lambda due: None, 1, heartbeat=heartbeat)

    assert heartbeat.beats == 1 + 3 + 2  # the run awaited, each nap, the start and end of the run
    assert heartbeat.busy == 1


def test_the_heartbeat_hears_the_run_awaited_then_the_run_in_progress_and_its_bound() -> None:
    clock = FakeClock(current=datetime(2024, 7, 4, 8, 57, 30, tzinfo=UTC))
    heartbeat = FakeHeartbeat(clock=clock)
    during: list[SchedulerState | None] = []

    run_users(
        "0 9,15 * * *", clock, lambda due: during.append(heartbeat.state()), 2, heartbeat=heartbeat
    )

    nine = datetime(2024, 7, 4, 9, 0, tzinfo=UTC)
    three = datetime(2024, 7, 4, 15, 0, tzinfo=UTC)
    assert heartbeat.states == [
        SchedulerState(due_at=nine),
        SchedulerState(busy_since=nine, busy_until=nine + BOUND),
        SchedulerState(due_at=three),
        SchedulerState(busy_since=three, busy_until=three + BOUND),
    ]
    assert during == heartbeat.states[1::2]
