"""Freshness, history, records of every operation, notifications: the rules of monitoring."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs
import pytest
from prometheus_client import generate_latest
from prometheus_client.registry import CollectorRegistry

from pg_backup_manager.adapters.cron import DEFAULT_SCHEDULE, CronSchedule
from pg_backup_manager.adapters.monitoring.metrics import BackupCollector
from pg_backup_manager.adapters.monitoring.notifications import message, redact
from pg_backup_manager.adapters.monitoring.run_history import JsonlRunLog
from pg_backup_manager.domain.backups.policy import Why, dated_in_the_future, plan_retention
from pg_backup_manager.domain.backups.timetable import Schedules
from pg_backup_manager.domain.history import Operation, Outcome, RunRecord
from pg_backup_manager.domain.model import Layout
from pg_backup_manager.domain.monitoring.freshness import (
    CLOCK_SKEW,
    database_status,
    default_max_age,
)
from pg_backup_manager.domain.monitoring.status import Status
from pg_backup_manager.domain.names import Backup, BackupName, Tier
from pg_backup_manager.domain.offsite.status import OffsiteStatus
from pg_backup_manager.entrypoints.cli import echo
from pg_backup_manager.entrypoints.rendering import documents
from pg_backup_manager.entrypoints.rendering import status as render_status

from .fakes import FakeHeartbeat, Fakes, database

NOW = datetime(2024, 7, 4, 9, 0, tzinfo=UTC)
USERS = database("users")


def record(outcome: Outcome, *, at: datetime = NOW, error: str | None = None) -> RunRecord:
    return RunRecord(
        operation=Operation.SCHEDULED,
        started_at=at - timedelta(seconds=30),
        finished_at=at,
        outcome=outcome,
        error=error,
    )


def backup(age: timedelta, tier: Tier = Tier.DAILY) -> Backup:
    return Backup(name=BackupName.for_run(tier=tier, at=NOW - age), size=1000)


def status_of(backups: list[Backup], history: list[RunRecord], **options: object):  # type: ignore[no-untyped-def]
    fields: dict[str, object] = {
        "database": USERS,
        "backups": backups,
        "history": history,
        "now": NOW,
        "max_age": timedelta(hours=12),
        "next_run_at": None,
        "started_at": None,
    }
    fields.update(options)
    return database_status(**fields)  # type: ignore[arg-type]


def test_the_default_max_age_is_twice_the_longest_gap_of_the_schedule() -> None:
    default = CronSchedule.parse(DEFAULT_SCHEDULE, "Europe/Berlin")
    weekly = CronSchedule.parse("0 3 * * 0", "UTC")
    uneven = CronSchedule.parse("0 1,2 * * *", "UTC")

    assert default_max_age(default, now=NOW) == timedelta(hours=12)
    assert default_max_age(weekly, now=NOW) == timedelta(days=14)
    assert default_max_age(uneven, now=NOW) == timedelta(hours=46)


@pytest.mark.parametrize("schedule", ["0 0 29 2 *", "@yearly", "0 3 1 1,7 *"])
def test_the_default_max_age_of_a_sparse_schedule_does_not_change_as_time_passes(
    schedule: str,
) -> None:
    sparse = CronSchedule.parse(schedule, "UTC")

    ages = {default_max_age(sparse, now=NOW + timedelta(seconds=s)) for s in (0, 3, 86400)}

    assert len(ages) == 1


def test_the_default_max_age_of_a_leap_day_schedule_is_twice_four_years() -> None:
    leap_day = CronSchedule.parse("0 0 29 2 *", "UTC")

    assert default_max_age(leap_day, now=NOW) == timedelta(days=2 * 1461)


def test_a_fresh_backup_is_healthy_and_an_old_one_is_not() -> None:
    assert status_of([backup(timedelta(hours=11))], []).healthy
    assert not status_of([backup(timedelta(hours=13))], []).healthy


def test_no_backup_is_healthy_only_in_the_first_max_age_after_the_scheduler_started() -> None:
    assert status_of([], [], started_at=NOW - timedelta(hours=1)).healthy
    assert not status_of([], [], started_at=NOW - timedelta(hours=13)).healthy
    assert not status_of([], []).healthy


def test_failures_in_a_row_and_the_last_of_each_outcome_come_from_backup_runs_only() -> None:
    history = [
        record(Outcome.SUCCESS, at=NOW - timedelta(hours=3)),
        record(Outcome.FAILURE, at=NOW - timedelta(hours=2), error="first"),
        RunRecord(
            operation=Operation.VERIFY,
            started_at=NOW,
            finished_at=NOW,
            outcome=Outcome.SUCCESS,
        ),
        record(
            Outcome.FAILURE, at=NOW - timedelta(hours=1), error="password authentication failed"
        ),
    ]

    status = status_of(
        [backup(timedelta(hours=3)), backup(timedelta(days=3), Tier.WEEKLY)], history
    )

    assert status.consecutive_failures == 2
    assert status.last_failure is not None and status.last_failure.error == (
        "password authentication failed"
    )
    assert status.last_success is not None
    assert status.backups_by_tier == {Tier.DAILY: 1, Tier.WEEKLY: 1, Tier.MONTHLY: 0}
    assert status.total_bytes == 2000


def test_the_history_keeps_the_newest_records_and_totals_that_survive_trimming(
    tmp_path: Path,
) -> None:
    layout = Layout(data_root=tmp_path, shared_root=tmp_path, databases_root=tmp_path)
    run_log = JsonlRunLog(layout=layout, keep=5)

    for minute in range(8):
        run_log.record("users", record(Outcome.SUCCESS, at=NOW + timedelta(minutes=minute)))
    run_log.record("users", record(Outcome.FAILURE, at=NOW + timedelta(hours=1), error="boom"))

    kept = run_log.records("users")
    assert len(kept) == 5
    assert kept[-1].error == "boom" and kept[0].finished_at == NOW + timedelta(minutes=4)
    assert run_log.totals("users") == {Outcome.SUCCESS: 8, Outcome.FAILURE: 1}
    lines = (tmp_path / "users" / "history.jsonl").read_text().splitlines()
    assert json.loads(lines[-1])["finished_at"] == "2024-07-04T10:00:00Z"


def test_a_history_that_cannot_be_written_never_fails_the_operation(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "users").write_text("a file where the directory should be")
    layout = Layout(data_root=tmp_path, shared_root=tmp_path, databases_root=tmp_path)

    JsonlRunLog(layout=layout).record("users", record(Outcome.SUCCESS))

    assert "run history could not be written" in caplog.text
    assert JsonlRunLog(layout=layout).records("users") == []


def test_every_dump_leaves_a_record_with_its_backup_or_its_error() -> None:
    fakes = Fakes()
    fakes.dumper.failing.add("orders")

    fakes.take_backups()([USERS, database("orders")])

    [made] = fakes.run_log.records("users")
    [failed] = fakes.run_log.records("orders")
    assert (made.operation, made.outcome) == (Operation.DUMP, Outcome.SUCCESS)
    assert made.backup == "file_daily_2024-07-04T09:00:00Z.dump" and made.sha256 is not None
    assert (made.pg_dump_version, made.server_version) == ("17.7", "15.14")
    assert failed.outcome is Outcome.FAILURE and "refused" in (failed.error or "")


def test_restore_verify_and_prune_leave_their_records_too() -> None:
    fakes = Fakes()
    fakes.store.add("users", "file_daily_2024-07-03T09:00:00Z.dump")

    fakes.restore().backup(USERS, "file_daily_2024-07-03T09:00:00Z.dump", safety_dump=False)
    fakes.verify()([USERS])
    fakes.prune()([USERS])
    fakes.prune()([USERS], dry_run=True)

    operations = [(r.operation, r.outcome) for r in fakes.run_log.records("users")]
    assert operations == [
        (Operation.RESTORE, Outcome.SUCCESS),
        (Operation.VERIFY, Outcome.FAILURE),  # the backup has no checksum file
        (Operation.PRUNE, Outcome.SUCCESS),
    ]


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        ("json://user:s3cret@hooks.local/x", "json://***@hooks.local/x"),
        ("ntfys://ntfy.sh/topic?token=tk_abc", "ntfys://ntfy.sh/topic?token=***"),
        ("listing s3://backups/prod/a/: check", "listing s3://backups/prod/a/: check"),
        ("no url here", "no url here"),
    ],
)
def test_credentials_inside_urls_are_redacted(text: str, redacted: str) -> None:
    assert redact(text) == redacted


def test_a_message_names_the_database_operation_outcome_and_backup_or_error() -> None:
    title, body = message("orders", record(Outcome.FAILURE, error="password authentication failed"))

    assert title == "orders: scheduled failure"
    assert "database: orders" in body and "outcome: failure after 30 s" in body
    assert "error: password authentication failed" in body


def test_a_backup_dated_in_the_future_is_ignored_and_the_newest_real_one_is_judged() -> None:
    future = backup(-timedelta(hours=17))
    stale = backup(timedelta(hours=13))

    status = status_of([future, stale], [record(Outcome.FAILURE, error="wrong password")])

    assert not status.healthy
    assert status.newest == stale and status.newest_age == timedelta(hours=13)
    assert status.future == (future.name,)
    assert status.backups_by_tier[Tier.DAILY] == 2 and status.total_bytes == 2000


def test_a_database_whose_only_backup_is_dated_in_the_future_has_no_backup_yet() -> None:
    future = backup(-timedelta(days=30))

    status = status_of([future], [])

    assert not status.healthy
    assert status.newest is None and status.future == (future.name,)


def test_a_backup_dated_within_the_allowed_clock_skew_counts_as_fresh_and_zero_old() -> None:
    ahead = backup(-CLOCK_SKEW + timedelta(seconds=1))

    status = status_of([ahead], [])

    assert status.healthy and status.newest == ahead and status.future == ()
    assert status.newest_age == timedelta(0)


def test_freshness_and_retention_agree_on_what_is_dated_in_the_future() -> None:
    names = [backup(age).name for age in (-timedelta(hours=17), -timedelta(minutes=1))]

    verdicts = plan_retention(names, now=NOW).verdicts

    assert [v.why is Why.FUTURE for v in verdicts] == [True, True]
    assert [dated_in_the_future(n, now=NOW) for n in names] == [True, True]
    assert [dated_in_the_future(n, now=NOW, allowance=CLOCK_SKEW) for n in names] == [True, False]


def test_health_status_json_and_metrics_say_a_future_dated_backup_is_ignored(
    capsys: pytest.CaptureFixture[str],
) -> None:
    future = backup(-timedelta(hours=17))
    stale = backup(timedelta(hours=13))
    status = status_of([future, stale], [record(Outcome.FAILURE, error="wrong password")])
    registry = CollectorRegistry(auto_describe=False)
    registry.register(BackupCollector(lambda: [status]))

    fault = render_status.fault(status)
    echo(
        render_status.statuses(
            [status], Schedules(common=CronSchedule.parse(DEFAULT_SCHEDULE, "UTC"))
        )
    )
    text = capsys.readouterr().out
    print(documents.statuses([status]))
    [entry] = json.loads(capsys.readouterr().out)["databases"]
    scraped = generate_latest(registry).decode()

    assert fault.startswith(f"users: newest backup is 13 h old ({stale.name}), more than 12 h;")
    assert f"1 backup(s) dated in the future ignored ({future.name})" in fault
    assert f"  dated in future:  1 backup(s) ignored: {future.name}\n" in text
    assert (entry["healthy"], entry["newest_backup"]["name"]) == (False, str(stale.name))
    assert entry["newest_backup_age_seconds"] == 13 * 3600
    assert entry["future_backups"] == [str(future.name)]
    assert 'pg_backup_healthy{database="users"} 0.0' in scraped
    assert 'pg_backup_last_size_bytes{database="users"} 1000.0' in scraped


def test_a_failure_whose_error_is_unknown_says_so_in_status_health_and_off_site(
    capsys: pytest.CaptureFixture[str],
) -> None:
    failed = record(Outcome.FAILURE)  # its error of the wrong type in the history: unknown
    status = status_of([backup(timedelta(hours=13))], [failed])
    sync = attrs.evolve(failed, operation=Operation.SYNC)
    offsite = OffsiteStatus(
        backups=0, missing=(), newest=None, last_sync=sync, last_success=None, last_failure=sync
    )

    fault = render_status.fault(status)
    echo(
        render_status.statuses(
            [status], Schedules(common=CronSchedule.parse(DEFAULT_SCHEDULE, "UTC"))
        )
    )
    text = capsys.readouterr().out
    said = render_status.offsite(offsite)

    assert fault.endswith("; last run failed: (no error recorded)")
    assert "  last failure:     2024-07-04T09:00:00Z (scheduled): (no error recorded)\n" in text
    assert said.endswith("last sync failed at 2024-07-04T09:00:00Z: (no error recorded))")
    assert "None" not in fault + text + said


def test_the_metrics_count_runs_from_the_statuses_and_read_no_history_themselves() -> None:
    status = attrs.evolve(
        status_of([backup(timedelta(hours=1))], []),
        runs_total={Outcome.SUCCESS: 7, Outcome.FAILURE: 2},
    )
    registry = CollectorRegistry(auto_describe=False)
    registry.register(BackupCollector(lambda: [status]))

    scraped = generate_latest(registry).decode()

    assert 'pg_backup_runs_total{database="users",outcome="success"} 7.0' in scraped
    assert 'pg_backup_runs_total{database="users",outcome="failure"} 2.0' in scraped


def test_status_counts_the_runs_ever_ended_only_when_asked() -> None:
    fakes = Fakes()
    fakes.take_backups()([database("users")])
    status = Status(
        catalog=fakes.store,
        history=fakes.run_log,
        clock=fakes.clock,
        schedules=Schedules(common=CronSchedule.parse(DEFAULT_SCHEDULE, "UTC")),
        heartbeat=FakeHeartbeat(clock=fakes.clock),
        production=False,
    )

    [plain] = status([database("users")])
    [counted] = status([database("users")], runs_total=True)

    assert plain.runs_total == {}
    assert counted.runs_total == {Outcome.SUCCESS: 1, Outcome.FAILURE: 0}
