"""``<SERVICE>_BACKUP_SCHEDULE`` and ``<SERVICE>_BACKUP_MAX_AGE``: each service backed up,
judged and shown by its own schedule, through the real container with fakes."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from dependency_injector import providers
from prometheus_client import generate_latest
from prometheus_client.registry import CollectorRegistry

from pg_backup_manager.adapters.cron import CronSchedule
from pg_backup_manager.adapters.monitoring.metrics import BackupCollector
from pg_backup_manager.adapters.postgres.pg_binaries import ClientTools
from pg_backup_manager.domain.backups.timetable import Schedules
from pg_backup_manager.domain.history import Operation
from pg_backup_manager.domain.monitoring.freshness import MaxAgeFrom, MaxAges
from pg_backup_manager.entrypoints import scheduler
from pg_backup_manager.entrypoints.containers import Container
from pg_backup_manager.entrypoints.main import main

from .fakes import FakeHeartbeat, Fakes

Run = Callable[..., tuple[int, str, str]]
NOW = datetime(2024, 7, 4, 9, 0, tzinfo=UTC)  # the fake clock's start: a Thursday
ENVIRON = {
    "DATABASE_LIST": "users,orders",
    "MODE": "production",
    "ORDERS_BACKUP_SCHEDULE": "30 * * * *",  # hourly, at half past; users: the default
}
HOUR = 3600
TOOLS = ClientTools(directory=Path("/usr/lib/postgresql/18/bin"), found_by="PATH", major=18)


def container_of(fakes: Fakes, heartbeat: FakeHeartbeat, **environ: str) -> Container:
    container = Container(environ={**ENVIRON, **environ}, cwd=Path("/srv"))
    container.drop_root.override(providers.Object(lambda user: None))
    for name in ("clock", "dumper", "checker", "locks", "server", "notifier", "pings"):
        getattr(container, name).override(getattr(fakes, name))
    container.history.override(fakes.run_log)
    container.globals_dumper.override(fakes.dumper)
    for name in ("catalog", "staging", "directories"):
        getattr(container, name).override(fakes.store)
    container.shared.override(fakes.store.shared_copies)
    container.heartbeat.override(heartbeat)
    container.client_tools.override(providers.Object(TOOLS))
    return container


@pytest.fixture
def fakes() -> Fakes:
    return Fakes()


@pytest.fixture
def heartbeat(fakes: Fakes) -> FakeHeartbeat:
    beating = FakeHeartbeat(clock=fakes.clock)
    beating.started(NOW - timedelta(minutes=1))
    beating.beat()
    return beating


@pytest.fixture
def run(fakes: Fakes, heartbeat: FakeHeartbeat, capsys: pytest.CaptureFixture[str]) -> Run:
    def run(*argv: str, **environ: str) -> tuple[int, str, str]:
        code = main(list(argv), container=container_of(fakes, heartbeat, **environ))
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def start(fakes: Fakes, heartbeat: FakeHeartbeat) -> Iterator[Callable[[int], None]]:
    """``controller start`` for a number of scheduled runs, on the fake clock."""
    container = container_of(fakes, heartbeat)
    container.wire()
    yield lambda runs: scheduler.start(runs=runs)
    container.unwire()


def scheduled(fakes: Fakes, identifier: str) -> list[datetime]:
    """When each scheduled run of ``identifier`` started."""
    records = fakes.run_log.records(identifier)
    return [r.started_at for r in records if r.operation is Operation.SCHEDULED]


def test_start_dumps_each_service_at_its_own_times_and_pings_each_run_with_its_services(
    fakes: Fakes, start: Callable[[int], None]
) -> None:
    start(3)

    assert scheduled(fakes, "orders") == [NOW + timedelta(minutes=m) for m in (30, 90, 150)]
    assert scheduled(fakes, "users") == []  # BACKUP_SCHEDULE's next time: 15:00
    assert fakes.store.names("users") == []
    assert fakes.pings.pinged == [
        ("start", ("orders",)),
        ("end", ("orders",), {}),
        ("start", ("orders",)),
        ("end", ("orders",), {}),
        ("start", ("orders",)),
        ("end", ("orders",), {}),
    ]


def test_a_service_failure_is_pinged_at_every_run_until_a_run_of_it_succeeds(
    fakes: Fakes,
) -> None:
    tell = fakes.tell()

    tell.run_ended(["users"], {"users": "password authentication failed"})
    tell.run_ended(["orders"], {})
    tell.run_ended(["users", "orders"], {})

    assert [ping[2] for ping in fakes.pings.pinged] == [
        {"users": "password authentication failed"},
        {"users": "password authentication failed"},  # the run of orders alone: still failing
        {},
    ]


def test_status_json_gives_each_database_the_next_run_and_max_age_of_its_own_schedule(
    run: Run,
) -> None:
    code, out, _ = run("status", "--json")

    by_database = {entry["database"]: entry for entry in json.loads(out)["databases"]}
    assert code == 0
    assert by_database["users"]["next_run_at"] == "2024-07-04T15:00:00Z"
    assert by_database["users"]["max_age_seconds"] == 12 * HOUR
    assert by_database["orders"]["next_run_at"] == "2024-07-04T09:30:00Z"
    assert by_database["orders"]["max_age_seconds"] == 2 * HOUR


def test_status_says_each_databases_next_run_in_its_schedules_time_zone(run: Run) -> None:
    code, out, _ = run("status", TZ="Europe/Berlin")

    assert code == 0
    assert "next run:         2024-07-04T13:00:00Z (2024-07-04T15:00:00+02:00)" in out
    assert "next run:         2024-07-04T09:30:00Z (2024-07-04T11:30:00+02:00)" in out


def test_health_judges_each_database_by_the_max_age_of_its_own_schedule(
    run: Run, fakes: Fakes
) -> None:
    three_hours_ago = "file_daily_2024-07-04T06:00:00Z.dump"
    fakes.store.add("users", three_hours_ago)
    fakes.store.add("orders", three_hours_ago)

    code, _, err = run("health")

    assert code == 1
    assert err.strip() == (
        "error: orders: newest backup is 3 h old (file_daily_2024-07-04T06:00:00Z.dump), "
        "more than 2 h"
    )


def test_backup_max_age_set_applies_to_every_service_but_one_with_its_own(run: Run) -> None:
    code, out, _ = run("status", "--json", BACKUP_MAX_AGE="7200", USERS_BACKUP_MAX_AGE="86400")

    ages = {e["database"]: e["max_age_seconds"] for e in json.loads(out)["databases"]}
    assert code == 0
    assert ages == {"users": 86400, "orders": 7200}


def test_a_services_own_max_age_wins_over_backup_max_age_and_its_schedules_gap() -> None:
    daily = Schedules(
        common=CronSchedule.parse("0 3 * * *", "UTC"),
        own={"orders": CronSchedule.parse("@weekly", "UTC")},
    )
    neither = MaxAges(own={"audit": timedelta(hours=1)})
    common = MaxAges(common=timedelta(hours=5), own={"audit": timedelta(hours=1)})

    found = neither.of_each(["users", "orders", "audit"], daily, now=NOW)
    told = common.of_each(["users", "orders", "audit"], daily, now=NOW)

    assert found == {
        "users": timedelta(days=2),
        "orders": timedelta(days=14),
        "audit": timedelta(hours=1),
    }
    assert told == {
        "users": timedelta(hours=5),
        "orders": timedelta(hours=5),
        "audit": timedelta(hours=1),
    }
    assert [common.source(i) for i in ("users", "audit")] == [MaxAgeFrom.COMMON, MaxAgeFrom.OWN]
    assert neither.source("orders") is MaxAgeFrom.SCHEDULE


def test_config_shows_each_services_schedule_and_max_age_and_where_they_come_from(
    run: Run,
) -> None:
    code, out, _ = run("config", DATABASE_LIST="users,orders,audit", AUDIT_BACKUP_MAX_AGE="600")

    lines = {line.split()[0]: line for line in out.splitlines()}
    assert code == 0
    assert lines["USERS_BACKUP_SCHEDULE"].split(None, 1)[1] == (
        "0 3,9,15,21 * * *  [default: BACKUP_SCHEDULE]"
    )
    assert lines["ORDERS_BACKUP_SCHEDULE"].split(None, 1)[1] == "30 * * * *  [environment]"
    assert lines["USERS_BACKUP_MAX_AGE"].split(None, 1)[1] == (
        "43200  [default: twice the longest gap of BACKUP_SCHEDULE]"
    )
    assert lines["ORDERS_BACKUP_MAX_AGE"].split(None, 1)[1] == (
        "7200  [default: twice the longest gap of ORDERS_BACKUP_SCHEDULE]"
    )
    assert lines["AUDIT_BACKUP_MAX_AGE"].split(None, 1)[1] == "600  [environment]"


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        ("ORDERS_BACKUP_SCHEDULE", "61 * * * *", "ORDERS_BACKUP_SCHEDULE '61 * * * *' is not a"),
        ("ORDERS_BACKUP_SCHEDULE", "@sometimes", "ORDERS_BACKUP_SCHEDULE '@sometimes' is not a"),
        ("USERS_BACKUP_MAX_AGE", "59", "USERS_BACKUP_MAX_AGE must be a number of seconds from 60"),
    ],
)
@pytest.mark.parametrize("command", ["config", "status", "health"])
def test_a_bad_service_schedule_or_max_age_is_one_line_naming_it_and_exit_2(
    run: Run, command: str, variable: str, value: str, said: str
) -> None:
    code, out, err = run(command, **{variable: value})

    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert err.startswith(f"error: {said}")


def test_metrics_give_each_database_the_max_age_it_is_judged_by() -> None:
    container = container_of(Fakes(), FakeHeartbeat())
    registry = CollectorRegistry()
    registry.register(BackupCollector(lambda: container.status()(container.config().databases)))

    scraped = generate_latest(registry).decode()

    assert 'pg_backup_max_age_seconds{database="users"} 43200.0' in scraped
    assert 'pg_backup_max_age_seconds{database="orders"} 7200.0' in scraped
