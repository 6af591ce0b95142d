"""When ``controller start`` verifies which database: between its backup runs, one database
at a time, never beside a backup run, nothing due ever dropped (a fake clock throughout)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import attrs
import pytest

from pg_backup_manager.adapters.cron import CronSchedule
from pg_backup_manager.domain.backups.timetable import Schedules
from pg_backup_manager.domain.model import Database
from pg_backup_manager.domain.monitoring.health import SchedulerState
from pg_backup_manager.domain.verification.agenda import (
    Agenda,
    BackupsFirst,
    Verify,
    WaitUntil,
    next_step,
    verification_bound,
)
from pg_backup_manager.domain.verification.model import Verification
from pg_backup_manager.entrypoints.loop import run_schedule
from pg_backup_manager.entrypoints.verifications import Verifications

from .fakes import FakeClock, FakeHeartbeat, database

NINE = datetime(2024, 7, 4, 9, 0, tzinfo=UTC)
HOURLY = CronSchedule.parse("0 * * * *", "UTC")
BOUND = timedelta(hours=2)
DATABASES = (database("a"), database("b"), database("c"))


class Timeline:
    """What the scheduler did, in order: ("verify", identifier, start, end) and
    ("backup", start, end), each taking the fake time it is given."""

    def __init__(self, clock: FakeClock, *, verify_takes: float = 600, backup_takes: float = 60):
        self.clock = clock
        self.verify_takes = verify_takes
        self.backup_takes = backup_takes
        self.events: list[tuple[object, ...]] = []

    def verify(self, database: Database) -> Sequence[Verification]:
        start = self.clock.now()
        self.clock.sleep(self.verify_takes)
        self.events.append(("verify", database.identifier, start, self.clock.now()))
        return ()

    def backup(self, due: Sequence[str] = ()) -> None:
        start = self.clock.now()
        self.clock.sleep(self.backup_takes)
        self.events.append(("backup", start, self.clock.now()))

    def spans(self) -> list[tuple[datetime, datetime]]:
        return [(event[-2], event[-1]) for event in self.events]  # type: ignore[misc]


def verifications(
    clock: FakeClock,
    timeline: Timeline,
    schedule: CronSchedule = HOURLY,
    heartbeat: FakeHeartbeat | None = None,
) -> Verifications:
    return Verifications(
        databases=DATABASES,
        schedule=schedule,
        clock=clock,
        verify=timeline.verify,
        bound=BOUND,
        heartbeat=heartbeat,
    )


def scheduled(clock: FakeClock, timeline: Timeline, *, backups: str, runs: int) -> None:
    run_schedule(
        schedules=Schedules(common=CronSchedule.parse(backups, "UTC")),
        identifiers=[d.identifier for d in DATABASES],
        clock=clock,
        job=timeline.backup,
        bound=lambda databases: BOUND,
        runs=runs,
        meanwhile=verifications(clock, timeline).until,
    )


def test_a_pass_verifies_every_database_one_at_a_time_in_order() -> None:
    clock = FakeClock(current=NINE - timedelta(minutes=10))
    timeline = Timeline(clock)

    scheduled(clock, timeline, backups="0 12 * * *", runs=1)

    verified = [event for event in timeline.events if event[0] == "verify"]
    assert [event[1] for event in verified] == ["a", "b", "c", "a", "b", "c", "a", "b", "c"]
    assert verified[0][2] == NINE
    spans = timeline.spans()
    assert all(end <= start for (_, end), (start, _) in itertools.pairwise(spans))


def test_a_backup_due_during_a_verification_starts_when_it_ends_then_the_pass_goes_on() -> None:
    clock = FakeClock(current=NINE - timedelta(minutes=1))
    timeline = Timeline(clock, verify_takes=300)

    scheduled(clock, timeline, backups="7 9 * * *", runs=2)

    minutes = [NINE + timedelta(minutes=m) for m in (0, 5, 10, 11, 16)]
    assert timeline.events[:4] == [
        ("verify", "a", minutes[0], minutes[1]),
        ("verify", "b", minutes[1], minutes[2]),
        # due at 09:07, during b's verification: right after it, never beside it
        ("backup", minutes[2], minutes[3]),
        ("verify", "c", minutes[3], minutes[4]),
    ]


def test_a_verification_due_during_a_backup_run_starts_as_soon_as_the_run_ends() -> None:
    clock = FakeClock(current=NINE - timedelta(minutes=1))
    timeline = Timeline(clock, backup_takes=2 * 3600 + 60)  # covers 10:00 and 11:00

    scheduled(clock, timeline, backups="0 9,14 * * *", runs=2)

    backup_end = NINE + timedelta(hours=2, minutes=1)
    assert timeline.events[0] == ("backup", NINE, backup_end)
    verified = [event for event in timeline.events if event[0] == "verify"]
    # the 10:00 and 11:00 passes are one pass, at once after the run; then 12:00, 13:00
    assert verified[0][2] == backup_end
    starts = [event[2] for event in verified if event[1] == "a"]
    assert starts == [backup_end, NINE + timedelta(hours=3), NINE + timedelta(hours=4)]


def test_a_backup_and_a_pass_due_at_the_same_time_run_the_backup_first() -> None:
    clock = FakeClock(current=NINE - timedelta(minutes=1))
    timeline = Timeline(clock)

    scheduled(clock, timeline, backups="0 9,12 * * *", runs=2)

    assert timeline.events[0] == ("backup", NINE, NINE + timedelta(minutes=1))
    assert timeline.events[1][:3] == ("verify", "a", NINE + timedelta(minutes=1))


def test_a_pass_that_outlasts_its_next_time_is_followed_by_one_pass_not_one_per_time() -> None:
    clock = FakeClock(current=NINE - timedelta(minutes=1))

    agenda = Agenda.after(HOURLY, clock.now())
    steps = []
    for _ in range(6):
        step, agenda = next_step(
            agenda, now=clock.now(), backup_due=None, identifiers=["a", "b", "c"], schedule=HOURLY
        )
        steps.append(step)
        if isinstance(step, WaitUntil):
            clock.current = step.moment
        else:
            clock.sleep(3 * 3600)  # each database 3 h: a pass 9 h

    assert steps == [
        WaitUntil(NINE),
        Verify("a", begins=NINE),
        Verify("b"),
        Verify("c"),
        Verify("a", begins=NINE + timedelta(hours=1)),  # once for all the times gone by
        Verify("b"),
    ]


def test_nothing_of_the_verifications_comes_before_a_backup_run_due_first() -> None:
    agenda = Agenda.after(HOURLY, NINE)

    step, after = next_step(
        agenda, now=NINE, backup_due=NINE + timedelta(minutes=5), identifiers=["a"], schedule=HOURLY
    )

    assert (step, after) == (BackupsFirst(), agenda)


def test_without_backup_runs_the_verifications_run_on_their_own_schedule() -> None:
    clock = FakeClock(current=NINE - timedelta(minutes=1))
    timeline = Timeline(clock)

    class Stop(BaseException):  # as a stop signal is: nothing swallows it
        pass

    def verify(database: Database) -> Sequence[Verification]:
        if len(timeline.events) == 4:
            raise Stop
        return timeline.verify(database)

    loop = Verifications(
        databases=DATABASES[:2], schedule=HOURLY, clock=clock, verify=verify, bound=BOUND
    )
    with pytest.raises(Stop):
        loop.until(None)

    assert [(event[1], event[2]) for event in timeline.events] == [
        ("a", NINE),
        ("b", NINE + timedelta(minutes=10)),
        ("a", NINE + timedelta(hours=1)),
        ("b", NINE + timedelta(hours=1, minutes=10)),
    ]


def test_the_heartbeat_hears_the_pass_awaited_then_each_databases_bound() -> None:
    clock = FakeClock(current=NINE - timedelta(minutes=1))
    heartbeat = FakeHeartbeat(clock=clock)
    timeline = Timeline(clock)
    loop = verifications(clock, timeline, heartbeat=heartbeat)

    loop.until(NINE + timedelta(minutes=15))

    ten_past = NINE + timedelta(minutes=10)
    assert heartbeat.states == [
        SchedulerState(due_at=NINE),
        SchedulerState(busy_since=NINE, busy_until=NINE + BOUND),
        SchedulerState(busy_since=ten_past, busy_until=ten_past + BOUND),
    ]
    assert [event[1] for event in timeline.events] == ["a", "b"]  # c after the backup run


def test_a_verification_that_crashes_is_logged_and_the_others_go_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock(current=NINE - timedelta(minutes=1))
    timeline = Timeline(clock)

    def verify(database: Database) -> Sequence[Verification]:
        if database.identifier == "a":
            raise RuntimeError("boom")
        return timeline.verify(database)

    loop = Verifications(
        databases=DATABASES, schedule=HOURLY, clock=clock, verify=verify, bound=BOUND
    )
    loop.until(NINE + timedelta(minutes=59))

    assert [event[1] for event in timeline.events] == ["b", "c"]
    assert "a: the scheduled verification failed unexpectedly" in caplog.text


def test_the_bound_of_a_verification_counts_each_copys_tools_server_and_lock() -> None:
    local = verification_bound(tool_timeout=100, server_timeout=10, lock_wait=1, remote=False)
    remote = verification_bound(tool_timeout=100, server_timeout=10, lock_wait=1, remote=True)

    assert local == timedelta(seconds=4 * 100 + 4 * 10 + 1)
    assert remote == timedelta(seconds=2 * 441 + 100)


def test_a_backup_run_late_for_a_verification_is_never_told_overdue_to_health() -> None:
    clock = FakeClock(current=NINE - timedelta(minutes=1))
    heartbeat = FakeHeartbeat(clock=clock)
    timeline = Timeline(clock, verify_takes=3600)  # a's verification outlasts the run's time

    run_schedule(
        schedules=Schedules(common=CronSchedule.parse("30 9 * * *", "UTC")),
        identifiers=[d.identifier for d in DATABASES],
        clock=clock,
        job=timeline.backup,
        bound=lambda databases: BOUND,
        heartbeat=heartbeat,
        runs=1,
        meanwhile=verifications(clock, timeline, heartbeat=heartbeat).until,
    )

    ten = NINE + timedelta(hours=1)
    assert timeline.events[1] == ("backup", ten, ten + timedelta(minutes=1))
    waited = [state.due_at for state in heartbeat.states if state.due_at is not None]
    assert waited == [NINE, ten]  # the verification's time, then "now", never 09:30


def test_databases_given_as_a_function_are_asked_again_after_each_backup_run() -> None:
    clock = FakeClock(current=NINE - timedelta(minutes=10))
    timeline = Timeline(clock)
    known = [database("main/a")]

    def run_that_finds_a_new_database(due: object) -> None:
        timeline.backup()
        known.append(database("main/b"))

    run_schedule(
        schedules=Schedules(common=CronSchedule.parse("30 9 * * *", "UTC")),
        identifiers=["main"],
        clock=clock,
        job=run_that_finds_a_new_database,
        bound=lambda services: BOUND,
        runs=2,
        meanwhile=attrs.evolve(verifications(clock, timeline), databases=lambda: known).until,
    )

    first_run = next(i for i, event in enumerate(timeline.events) if event[0] == "backup")
    before = {event[1] for event in timeline.events[:first_run] if event[0] == "verify"}
    after = {event[1] for event in timeline.events[first_run:] if event[0] == "verify"}
    assert (before, after) == ({"main/a"}, {"main/a", "main/b"})
