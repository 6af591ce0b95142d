"""Each service at the times of its own schedule: which services each scheduled run takes,
decided by the timetable and driven by the scheduler loop on a fake clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pg_backup_manager.adapters.cron import CronSchedule
from pg_backup_manager.domain.backups.timetable import Schedules, Timetable
from pg_backup_manager.domain.monitoring.health import SchedulerState
from pg_backup_manager.entrypoints.loop import run_schedule

from .fakes import FakeClock, FakeHeartbeat

SERVICES = ("users", "orders", "audit")


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2024, 7, 4, hour, minute, tzinfo=UTC)


def cron(expression: str) -> CronSchedule:
    return CronSchedule.parse(expression, "UTC")


def schedules(common: str, **own: str) -> Schedules:
    return Schedules(common=cron(common), own={name: cron(e) for name, e in own.items()})


def runs_of(
    found: Schedules,
    *,
    start: datetime,
    runs: int,
    takes: timedelta = timedelta(0),
    heartbeat: FakeHeartbeat | None = None,
    clock: FakeClock | None = None,
) -> list[tuple[datetime, tuple[str, ...]]]:
    """Return when each of ``runs`` scheduled runs started and the services it took, each
    run lasting ``takes``."""
    clock = clock or FakeClock(current=start)
    done: list[tuple[datetime, tuple[str, ...]]] = []

    def job(due: tuple[str, ...]) -> None:
        done.append((clock.now(), due))
        clock.sleep(takes.total_seconds())

    run_schedule(
        schedules=found,
        identifiers=SERVICES,
        clock=clock,
        job=job,
        bound=lambda databases: databases * timedelta(hours=1),
        heartbeat=heartbeat,
        runs=runs,
    )
    return done


def test_a_service_without_a_schedule_of_its_own_follows_backup_schedule() -> None:
    found = schedules("0 3 * * *", orders="@hourly")

    assert found.of("users") == cron("0 3 * * *")
    assert found.of("orders") == cron("@hourly")
    assert found.has_own("orders") and not found.has_own("users")


def test_each_service_is_backed_up_at_the_times_of_its_own_schedule() -> None:
    found = schedules("0 9,15 * * *", orders="0 * * * *", audit="30 9 * * *")

    done = runs_of(found, start=at(8, 30), runs=4)

    assert done == [
        (at(9), ("users", "orders")),
        (at(9, 30), ("audit",)),
        (at(10), ("orders",)),
        (at(11), ("orders",)),
    ]


def test_services_due_at_the_same_minute_run_side_by_side_in_one_run() -> None:
    found = schedules("0 9 * * *", orders="0 */3 * * *", audit="0 9 * * 4")  # 2024-07-04: Thu

    done = runs_of(found, start=at(8, 30), runs=2)

    assert done == [(at(9), SERVICES), (at(12), ("orders",))]


def test_a_service_due_while_a_run_of_others_goes_on_runs_as_soon_as_it_ends() -> None:
    found = schedules("0 9 * * *", audit="30 9 * * *", orders="0 10 * * *")

    done = runs_of(found, start=at(8, 30), runs=3, takes=timedelta(minutes=45))

    assert done == [
        (at(9), ("users",)),
        (at(9, 45), ("audit",)),  # due at 09:30, during the run of users: late, not skipped
        (at(10, 30), ("orders",)),  # due at 10:00, during the run of audit
    ]


def test_a_run_that_outlasts_its_services_interval_skips_their_times_it_covered() -> None:
    found = schedules("0 9 * * *", orders="*/20 * * * *", audit="0 12 * * *")

    done = runs_of(found, start=at(8, 50), runs=3, takes=timedelta(minutes=50))

    assert done == [
        (at(9), ("users", "orders")),
        (at(10), ("orders",)),  # 09:20 and 09:40 fell in the run that took orders
        (at(11), ("orders",)),  # 10:20 and 10:40 too
    ]


def test_a_clock_that_jumps_past_several_times_runs_each_service_once() -> None:
    found = schedules("0 9 * * *", orders="*/5 * * * *", audit="0 10 * * *")
    timetable = Timetable.starting(found, SERVICES, now=at(8, 59))

    due = timetable.due_by(at(10, 7))  # a suspended host wakes up an hour later
    after = timetable.after_run(due, now=at(10, 8))

    assert due == SERVICES
    tomorrow = timedelta(days=1)
    assert after.times == {
        "users": at(9) + tomorrow,
        "orders": at(10, 10),
        "audit": at(10) + tomorrow,
    }


def test_the_heartbeat_hears_each_run_with_a_bound_for_its_own_services() -> None:
    clock = FakeClock(current=at(8, 30))
    heartbeat = FakeHeartbeat(clock=clock)
    found = schedules("0 9 * * *", orders="0 10 * * *")

    runs_of(found, start=at(8, 30), runs=2, heartbeat=heartbeat, clock=clock)

    assert heartbeat.states == [
        SchedulerState(due_at=at(9)),
        SchedulerState(busy_since=at(9), busy_until=at(11)),  # users and audit: 2 h
        SchedulerState(due_at=at(10)),
        SchedulerState(busy_since=at(10), busy_until=at(11)),  # orders alone: 1 h
    ]
