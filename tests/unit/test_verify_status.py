"""The scheduled verifications as ``status``, ``status --json``, ``health`` and ``/metrics``
say them: read from the history alone; a failed one is a fault until a later one of its
kind passes; none at all is no fault."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from prometheus_client import generate_latest
from prometheus_client.registry import CollectorRegistry

from pg_backup_manager.adapters.cron import DEFAULT_SCHEDULE, CronSchedule
from pg_backup_manager.adapters.monitoring.metrics import BackupCollector
from pg_backup_manager.domain.backups.timetable import Schedules
from pg_backup_manager.domain.history import Operation, Outcome, RunRecord
from pg_backup_manager.domain.monitoring.freshness import DatabaseStatus, MaxAges
from pg_backup_manager.domain.monitoring.health import Verdict
from pg_backup_manager.domain.monitoring.status import CheckHealth, Status
from pg_backup_manager.domain.names import BackupName
from pg_backup_manager.domain.offsite_copies import OffsiteCopy
from pg_backup_manager.domain.verification.model import VerifySchedule
from pg_backup_manager.entrypoints.rendering import documents
from pg_backup_manager.entrypoints.rendering import status as render_status

from .fakes import GOOD_SHA256, FakeHeartbeat, Fakes, database
from .test_verifying import fakes_with

USERS = database("users", dbname="app")
NEW = "file_daily_2024-07-04T03:00:00Z.dump"
NEWER = "file_daily_2024-07-04T08:00:00Z.dump"
DAILY_AT_FOUR = CronSchedule.parse("0 4 * * *", "UTC")
MAX_HEARTBEAT_AGE = 180.0


def asked(*, remote: bool = False) -> VerifySchedule:
    return VerifySchedule(schedule=DAILY_AT_FOUR, remote=remote)


def verify_now(fakes: Fakes, *, remote: bool = False) -> None:
    fakes.scheduled_verify(DAILY_AT_FOUR, remote=remote)(USERS)
    fakes.clock.sleep(600)


def reader(fakes: Fakes, *, verification: VerifySchedule | None, production: bool = True) -> Status:
    heartbeat = FakeHeartbeat(clock=fakes.clock)
    heartbeat.started(fakes.clock.now() - timedelta(hours=1))
    heartbeat.beat()
    return Status(
        catalog=fakes.store,
        history=fakes.run_log,
        clock=fakes.clock,
        schedules=Schedules(common=CronSchedule.parse(DEFAULT_SCHEDULE, "UTC")),
        heartbeat=heartbeat,
        production=production,
        max_ages=MaxAges(common=timedelta(days=2)),
        verification=verification,
    )


def status(fakes: Fakes, *, verification: VerifySchedule | None = None) -> DatabaseStatus:
    [found] = reader(fakes, verification=verification or asked())([USERS])
    return found


def health_lines(fakes: Fakes, *, production: bool = True) -> tuple[int, list[str]]:
    read = reader(fakes, verification=asked(), production=production)
    report = CheckHealth(status=read, heartbeat=read.heartbeat)(  # type: ignore[arg-type]
        [USERS], max_heartbeat_age=MAX_HEARTBEAT_AGE, liveness_only=False
    )
    return report.exit_code, [line.text for line in render_status.health(report)]


def scrape(statuses: list[DatabaseStatus]) -> str:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(BackupCollector(lambda: statuses))
    return generate_latest(registry).decode()


def test_no_verification_at_all_is_no_fault() -> None:
    fakes = fakes_with(NEW)

    found = status(fakes)

    assert found.verification is not None and found.verification.healthy
    assert found.healthy
    assert health_lines(fakes)[0] == 0


def test_a_failed_verification_is_unhealthy_until_a_later_one_passes() -> None:
    fakes = fakes_with(NEW)
    fakes.checker.hashes[NEW] = "b" * 64
    verify_now(fakes)
    failed = status(fakes)
    code, lines = health_lines(fakes)
    fakes.store.add("users", NEWER)  # a new backup, good
    fakes.store.checksums["users", BackupName.parse(NEWER)] = GOOD_SHA256
    verify_now(fakes)

    assert not failed.healthy and failed.fresh  # the backup is fresh: the proof failed
    assert code == 1
    [line] = lines
    assert line.startswith(f"error: users: last scheduled verification failed 10 min ago ({NEW}): ")
    assert "corrupt" in line
    assert status(fakes).healthy
    assert health_lines(fakes)[0] == 0


def test_outside_production_a_failed_verification_is_unhealthy_until_a_later_one_passes() -> None:
    fakes = fakes_with(NEW)
    fakes.checker.hashes[NEW] = "b" * 64
    verify_now(fakes)
    code, lines = health_lines(fakes, production=False)
    [document] = json.loads(
        documents.statuses(reader(fakes, verification=asked(), production=False)([USERS]))
    )["databases"]
    fakes.store.add("users", NEWER)  # a new backup, good
    fakes.store.checksums["users", BackupName.parse(NEWER)] = GOOD_SHA256
    verify_now(fakes)

    assert code == 1
    [mode, line] = lines
    assert mode == f"error: {render_status.NOT_PRODUCTION}"
    assert line.startswith(f"error: users: last scheduled verification failed 10 min ago ({NEW}): ")
    assert document["verify"]["healthy"] is False and document["healthy"] is False
    assert health_lines(fakes, production=False) == (1, [mode])


def test_a_manual_verify_never_counts_as_a_scheduled_one() -> None:
    fakes = fakes_with(NEW)
    fakes.checker.hashes[NEW] = "b" * 64
    fakes.verify()([USERS], restore=True)  # `controller verify users --restore`: failed

    found = status(fakes)

    assert [r.operation for r in fakes.run_log.records("users")] == [Operation.VERIFY]
    assert found.healthy
    assert found.verification is not None and found.verification.local.last is None


def test_without_verify_schedule_status_says_nothing_of_verifications() -> None:
    fakes = fakes_with(NEW)
    fakes.checker.hashes[NEW] = "b" * 64
    verify_now(fakes)  # a verification of an earlier configuration

    [found] = reader(fakes, verification=None)([USERS])

    assert found.verification is None and found.healthy
    document = json.loads(documents.statuses([found]))
    assert "verify" not in document["databases"][0]
    assert "pg_backup_last_verify" not in scrape([found])


def test_status_json_shows_the_last_verified_backup_when_its_outcome_and_error() -> None:
    fakes = fakes_with(NEW)
    verify_now(fakes)
    fakes.checker.hashes[NEW] = "b" * 64
    verify_now(fakes)

    [entry] = json.loads(documents.statuses([status(fakes)]))["databases"]

    error = entry["verify"].pop("error")
    assert "corrupt" in error
    assert entry["healthy"] is False
    assert entry["verify"] == {
        "backup": NEW,
        "verified_at": "2024-07-04T09:10:00Z",
        "outcome": "failure",
        "last_success_at": "2024-07-04T09:00:00Z",
        "healthy": False,
        "next_run_at": "2024-07-05T04:00:00Z",
    }


def test_status_text_shows_the_last_verification_and_the_next() -> None:
    fakes = fakes_with(NEW)
    verify_now(fakes)

    lines = [
        line.text
        for line in render_status.statuses([status(fakes)], Schedules(common=DAILY_AT_FOUR))
    ]

    assert f"  last verify:      {NEW} at 2024-07-04T09:00:00Z (10 min ago): passed" in lines
    assert "  next verify:      2024-07-05T04:00:00Z (2024-07-05T04:00:00+00:00)" in lines
    assert not any(line.startswith("  off-site verify:") for line in lines)


def test_status_text_outside_production_shows_the_verification_with_no_next_run() -> None:
    fakes = fakes_with(NEW)
    verify_now(fakes)
    [found] = reader(fakes, verification=asked(), production=False)([USERS])

    lines = [line.text for line in render_status.statuses([found], Schedules(common=DAILY_AT_FOUR))]

    assert "  next run:         none (MODE is not 'production')" in lines
    assert f"  last verify:      {NEW} at 2024-07-04T09:00:00Z (10 min ago): passed" in lines


def test_with_verify_remote_the_off_site_copy_has_its_own_verdict_everywhere() -> None:
    fakes = fakes_with(NEW)
    fakes.offsite.copied["users"] = {
        BackupName.parse(NEW): OffsiteCopy(name=BackupName.parse(NEW), size=1, sha256="c" * 64)
    }
    verify_now(fakes, remote=True)  # the local passes, the copy fails its checksum
    found = status(fakes, verification=asked(remote=True))

    entry = json.loads(documents.statuses([found]))["databases"][0]["verify"]
    lines = [line.text for line in render_status.statuses([found], Schedules(common=DAILY_AT_FOUR))]
    scraped = scrape([found])

    assert (entry["outcome"], entry["offsite"]["outcome"]) == ("success", "failure")
    assert entry["offsite"]["backup"] == NEW and not found.healthy
    assert render_status.faults(found) == [
        f"users: last scheduled verification of the off-site copy failed 10 min ago ({NEW}): "
        + (found.verification.offsite.last.error or "")  # type: ignore[union-attr]
    ]
    assert any(line.startswith("  off-site verify:  ") and "FAILED" in line for line in lines)
    assert 'pg_backup_last_verify_success{database="users"} 1.0' in scraped
    assert 'pg_backup_offsite_last_verify_success{database="users"} 0.0' in scraped


@pytest.mark.parametrize("outcome", [Outcome.SUCCESS, Outcome.FAILURE])
def test_the_metrics_time_the_last_verification_and_say_whether_it_passed(
    outcome: Outcome,
) -> None:
    fakes = fakes_with(NEW)
    at = fakes.clock.now()
    fakes.run_log.record(
        "users",
        RunRecord(
            operation=Operation.VERIFY_SCHEDULED,
            started_at=at - timedelta(seconds=30),
            finished_at=at,
            outcome=outcome,
            backup=NEW,
            error=None if outcome is Outcome.SUCCESS else "restore failed",
        ),
    )

    scraped = scrape([status(fakes)])

    success = "1.0" if outcome is Outcome.SUCCESS else "0.0"
    assert 'pg_backup_last_verify_timestamp_seconds{database="users"} 1.7200836e+09' in scraped
    assert f'pg_backup_last_verify_success{{database="users"}} {success}' in scraped
    assert "pg_backup_offsite_last_verify" not in scraped
    assert (f'pg_backup_healthy{{database="users"}} {success}') in scraped


def test_a_database_not_verified_yet_has_no_verification_sample() -> None:
    scraped = scrape([status(fakes_with(NEW))])

    assert "# TYPE pg_backup_last_verify_success gauge" in scraped
    assert 'pg_backup_last_verify_success{database="users"}' not in scraped


def test_health_with_no_backup_yet_does_not_add_a_verification_fault() -> None:
    fakes = Fakes()
    verify_now(fakes)  # skipped: recorded nowhere

    found = status(fakes)

    assert fakes.run_log.records("users") == []
    assert found.verification is not None and found.verification.faults == ()


def test_the_verdict_of_health_is_faults_when_only_a_verification_failed() -> None:
    fakes = fakes_with(NEW)
    fakes.checker.unreadable.add(NEW)
    verify_now(fakes)
    read = reader(fakes, verification=asked())

    report = CheckHealth(status=read, heartbeat=read.heartbeat)(  # type: ignore[arg-type]
        [USERS], max_heartbeat_age=MAX_HEARTBEAT_AGE, liveness_only=False
    )

    assert report.verdict is Verdict.FAULTS
