"""``health --liveness``: the scheduler makes progress, judged from what its heartbeat says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs
import pytest

from pg_backup_manager.domain.monitoring.health import Liveness, SchedulerState, Verdict, run_bound
from pg_backup_manager.domain.monitoring.status import CheckHealth
from pg_backup_manager.entrypoints.rendering.status import stale_heartbeat

from .fakes import FakeHeartbeat, Fakes, database

NOW = datetime(2024, 7, 4, 9, 0, tzinfo=UTC)
MAX_AGE = 180.0


def seconds(n: float) -> timedelta:
    return timedelta(seconds=n)


def judged(state: SchedulerState | None, *, age: float = 10.0) -> Liveness:
    return Liveness(age=age, max_age=MAX_AGE, state=state, now=NOW)


def test_a_fresh_heartbeat_waiting_for_a_run_still_to_come_is_alive() -> None:
    liveness = judged(SchedulerState(due_at=NOW + seconds(3600)))

    assert liveness.alive and liveness.fault is None


def test_a_run_due_less_than_max_age_ago_may_still_be_starting() -> None:
    assert judged(SchedulerState(due_at=NOW - seconds(MAX_AGE))).alive


def test_a_run_overdue_by_more_than_max_age_is_stuck_though_the_heart_beats() -> None:
    liveness = judged(SchedulerState(due_at=NOW - seconds(MAX_AGE + 1)))

    assert not liveness.alive
    assert liveness.fault == "overdue"
    assert liveness.late == MAX_AGE + 1


def test_a_run_within_its_bound_is_alive() -> None:
    state = SchedulerState(busy_since=NOW - seconds(7200), busy_until=NOW + seconds(60))

    assert judged(state).alive


def test_a_run_past_its_bound_by_more_than_max_age_is_stuck_though_the_heart_beats() -> None:
    state = SchedulerState(busy_since=NOW - seconds(7200), busy_until=NOW - seconds(200))

    liveness = judged(state)

    assert not liveness.alive
    assert (liveness.fault, liveness.late) == ("stuck", 200.0)


def test_a_run_in_progress_is_judged_by_its_bound_not_by_the_run_it_replaced() -> None:
    state = SchedulerState(
        due_at=NOW - seconds(7200), busy_since=NOW - seconds(60), busy_until=NOW + seconds(600)
    )

    assert judged(state).alive


def test_a_silent_heartbeat_is_dead_whatever_its_state() -> None:
    liveness = judged(SchedulerState(due_at=NOW + seconds(60)), age=MAX_AGE + 1)

    assert not liveness.alive and liveness.fault == "silent"


def test_a_heartbeat_without_a_state_is_judged_by_its_age_alone() -> None:
    assert judged(None).alive
    assert not judged(None, age=MAX_AGE + 1).alive


def test_a_run_may_take_five_dump_timeouts_and_two_lock_waits_per_database() -> None:
    bound = run_bound(databases=3, dump_timeout=3600.0, lock_wait=30.0)

    assert bound == seconds(3 * (5 * 3600 + 2 * 30))


def test_a_run_may_also_take_the_timeout_of_each_command_run_around_a_backup() -> None:
    bound = run_bound(databases=3, dump_timeout=3600.0, lock_wait=30.0, hooks=4 * 300.0)

    assert bound == seconds(3 * (5 * 3600 + 2 * 30) + 4 * 300)


def check_health(fakes: Fakes, heartbeat: FakeHeartbeat) -> CheckHealth:
    return CheckHealth(status=fakes.status(heartbeat), heartbeat=heartbeat)


def test_health_says_which_run_is_stuck_and_for_how_long_while_the_heart_beats() -> None:
    fakes = Fakes()
    heartbeat = FakeHeartbeat(clock=fakes.clock)
    since = fakes.clock.now()

    with heartbeat.while_busy(since=since, until=since + seconds(600)):
        fakes.clock.sleep(600 + MAX_AGE + 1)
        heartbeat.beat()
        report = check_health(fakes, heartbeat)([], max_heartbeat_age=MAX_AGE, liveness_only=True)

    assert not report.alive and not report.healthy
    assert stale_heartbeat(report) == (
        "the run in progress since 2024-07-04T09:00:00Z has outlasted its bound of 600 s "
        "by 181 s (more than 180 s): 'controller start' is stuck"
    )


def test_health_says_which_run_is_overdue_while_the_heart_beats() -> None:
    fakes = Fakes()
    heartbeat = FakeHeartbeat(clock=fakes.clock)
    heartbeat.waiting(fakes.clock.now())
    fakes.clock.sleep(3600)
    heartbeat.beat()

    report = check_health(fakes, heartbeat)([], max_heartbeat_age=MAX_AGE, liveness_only=True)

    assert not report.alive
    assert stale_heartbeat(report) == (
        "the scheduled run due at 2024-07-04T09:00:00Z has not started "
        "(3600 s late, more than 180 s): 'controller start' is stuck"
    )


@pytest.mark.parametrize(
    ("production", "liveness_only", "beat", "verdict", "code"),
    [
        (True, False, False, Verdict.NO_HEARTBEAT, 1),
        (True, True, True, Verdict.ALIVE, 0),
        (False, True, True, Verdict.ALIVE, 0),
        (False, False, True, Verdict.NOT_PRODUCTION, 1),
        (True, False, True, Verdict.FAULTS, 1),  # users has no backup and no grace period
    ],
)
def test_health_decides_its_verdict_and_exit_code_in_the_use_case(
    production: bool, liveness_only: bool, beat: bool, verdict: Verdict, code: int
) -> None:
    fakes = Fakes()
    heartbeat = FakeHeartbeat(clock=fakes.clock)
    if beat:
        heartbeat.beat()
    health = check_health(fakes, heartbeat)
    health = attrs.evolve(health, status=attrs.evolve(health.status, production=production))

    report = health([database("users")], max_heartbeat_age=MAX_AGE, liveness_only=liveness_only)

    assert (report.verdict, report.exit_code) == (verdict, code)


def test_a_healthy_report_exits_0_and_a_late_scheduler_exits_1() -> None:
    fakes = Fakes()
    heartbeat = FakeHeartbeat(clock=fakes.clock)
    heartbeat.beat()
    fakes.store.add("users", "file_daily_2024-07-04T08:00:00Z.dump")

    healthy = check_health(fakes, heartbeat)(
        [database("users")], max_heartbeat_age=MAX_AGE, liveness_only=False
    )
    fakes.clock.sleep(MAX_AGE + 1)
    late = check_health(fakes, heartbeat)(
        [database("users")], max_heartbeat_age=MAX_AGE, liveness_only=False
    )

    assert (healthy.verdict, healthy.exit_code) == (Verdict.HEALTHY, 0)
    assert (late.verdict, late.exit_code) == (Verdict.NOT_ALIVE, 1)
