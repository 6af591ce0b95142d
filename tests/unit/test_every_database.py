"""``<SERVICE>_POSTGRES_DB=*``: each run asks the server which databases it has and backs
each up as a database of its own, ``<service>/<database>``, with the server's globals
dumped once per run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs
import pytest

from pg_backup_manager.adapters.cron import DEFAULT_SCHEDULE, CronSchedule
from pg_backup_manager.adapters.monitoring.notifications import errors_of
from pg_backup_manager.domain.backups.timetable import Schedules
from pg_backup_manager.domain.errors import ConfigurationError, UnknownDatabaseError
from pg_backup_manager.domain.every_database import ServerListing
from pg_backup_manager.domain.history import Operation, Outcome
from pg_backup_manager.domain.model import Config
from pg_backup_manager.domain.monitoring.freshness import MaxAges
from pg_backup_manager.domain.monitoring.status import Status
from pg_backup_manager.domain.names import BackupName
from pg_backup_manager.domain.restore.scratch import Purpose, ScratchNames
from pg_backup_manager.domain.targets import Targets

from .fakes import LAYOUT, FakeClock, FakeHeartbeat, Fakes, database, server

MAIN = server("main", excluded=frozenset({"scratch"}))
USERS = database("users")
NEW = "file_daily_2024-07-04T09:00:00Z.dump"  # what the fake clock's dump is called
NEW_NAME = BackupName.parse(NEW)


def with_server(*names: str) -> Fakes:
    fakes = Fakes()
    fakes.servers.has["main"] = list(names)
    return fakes


def dumped(fakes: Fakes) -> list[str]:
    return [identifier for identifier, _ in fakes.dumper.dumped]


def test_each_database_of_the_server_but_the_excluded_is_backed_up_as_its_own() -> None:
    fakes = with_server("app", "my db", "scratch", "a/b")

    report = fakes.backup_run(offsite=False).scheduled([MAIN, USERS], share=False)

    assert dumped(fakes) == ["main/a/b", "main/app", "main/my db", "users"]
    assert [r.database.dbname for r in report.dumps.results[:3]] == ["a/b", "app", "my db"]
    assert fakes.store.names("main/my db") == [NEW]
    assert fakes.store.names("main/scratch") == []
    assert report.exit_code == 0
    assert fakes.servers.recorded["main"].names == {"app", "my db", "a/b"}


def test_the_controllers_own_temporary_databases_are_never_backed_up_as_the_servers() -> None:
    at = datetime(2024, 7, 4, 9, 0, tzinfo=UTC)
    scratch = ScratchNames(identifier="main/app", target="app")
    temporary = [scratch.name(purpose, at) for purpose in Purpose]
    fakes = with_server("app", *temporary, "app_verify_notours")

    fakes.backup_run(offsite=False).scheduled([MAIN], share=False)

    assert dumped(fakes) == ["main/app", "main/app_verify_notours"]


def test_the_globals_of_a_server_are_dumped_once_per_run_and_copied_beside_each_backup() -> None:
    fakes = with_server("app", "billing", "crm")

    fakes.backup_run(offsite=False).dump([MAIN])

    [(identifier, run_file)] = fakes.dumper.globals_dumped
    assert identifier == "main/app"  # the first database that asked
    copies = [action for action in fakes.store.actions if action[0] == "copy globals"]
    assert [(source, target.split("/")[4]) for _, source, target in copies] == [
        (str(run_file), segment) for segment in ("app", "billing", "crm")
    ]
    assert ("globals of run removed", "main", str(run_file)) in fakes.store.actions
    assert all(fakes.store.globals_checksums[f"main/{n}", NEW_NAME] for n in ("app", "crm"))


def test_globals_that_cannot_be_dumped_fail_each_database_of_the_server_once() -> None:
    fakes = with_server("app", "billing")
    fakes.dumper.failing_globals = True

    report = fakes.backup_run(offsite=False).dump([MAIN])

    assert [r.succeeded for r in report.dumps.results] == [False, False]
    assert "pg_dumpall" in str(report.dumps.results[1].error)
    assert fakes.store.names("main/billing") == []
    assert report.exit_code == 1


def test_a_database_created_between_two_runs_is_backed_up_by_the_next() -> None:
    fakes = with_server("app")
    run = fakes.backup_run(offsite=False)
    run.scheduled([MAIN], share=False)

    fakes.servers.has["main"].append("new")
    fakes.clock.sleep(3600)
    run.scheduled([MAIN], share=False)

    assert dumped(fakes) == ["main/app", "main/app", "main/new"]


def test_a_dropped_database_keeps_its_backups_which_retention_thins_to_the_newest() -> None:
    fakes = with_server("app", "old")
    run = fakes.backup_run(offsite=False)
    run.scheduled([MAIN], share=False)
    fakes.servers.has["main"].remove("old")
    fakes.clock.sleep(timedelta(days=30).total_seconds())

    report = run.scheduled([MAIN], share=False)

    assert dumped(fakes) == ["main/app", "main/old", "main/app"]
    assert fakes.store.names("main/old") == [NEW]  # past 7 days, but the newest: kept
    assert [result.database.identifier for result in report.pruned] == ["main/app", "main/old"]


def test_a_server_that_cannot_be_listed_fails_each_database_known_of_it() -> None:
    fakes = with_server("app", "crm")
    run = fakes.backup_run(offsite=False)
    run.scheduled([MAIN], share=False)
    fakes.servers.unreachable.add("main")

    report = run.scheduled([MAIN, USERS], share=False)

    failed = {r.database.identifier: str(r.error) for r in report.dumps.failed}
    assert list(failed) == ["main/app", "main/crm"]
    assert "cannot list the databases of main's server" in failed["main/app"]
    assert report.failures.keys() == {"main/app", "main/crm"}
    runs = [r for r in fakes.run_log.records("main/crm") if r.operation is Operation.SCHEDULED]
    assert [r.outcome for r in runs] == [Outcome.SUCCESS, Outcome.FAILURE]
    assert report.exit_code == 1


def test_a_server_never_listed_fails_under_the_service_itself() -> None:
    fakes = Fakes()
    fakes.servers.unreachable.add("main")

    report = fakes.backup_run(offsite=False).scheduled([MAIN], share=False)

    [result] = report.dumps.results
    assert result.database.identifier == "main" and not result.succeeded
    [record] = fakes.run_log.records("main")
    assert (record.operation, record.outcome) == (Operation.SCHEDULED, Outcome.FAILURE)


def test_a_server_with_nothing_left_to_back_up_is_a_failure_naming_the_exclusions() -> None:
    fakes = with_server("scratch")

    report = fakes.backup_run(offsite=False).dump([MAIN])

    [result] = report.dumps.results
    assert "all excluded by MAIN_EXCLUDE_DATABASES" in str(result.error)


def config(*databases: object) -> Config:
    return Config(
        databases=tuple(databases),  # type: ignore[arg-type]
        layout=LAYOUT,
        production=True,
        create_shared_dirs=False,
        copy_to_shared=False,
        timezone="UTC",
    )


def targets(fakes: Fakes) -> Targets:
    return Targets(
        config=config(MAIN, USERS),
        catalog=fakes.store,
        stored=fakes.store,
        shared=fakes.store,
        listings=fakes.servers,
    )


def test_a_service_with_every_database_names_those_on_disk_and_last_listed() -> None:
    fakes = Fakes()
    fakes.store.add("main/gone", NEW)
    listed_at = fakes.clock.now()
    fakes.servers.recorded["main"] = ServerListing(names=frozenset({"app"}), listed_at=listed_at)

    found = targets(fakes).named(None, all_=True)

    assert [d.identifier for d in found] == ["main/app", "main/gone", "users"]


def test_a_database_of_a_server_unknown_here_is_exit_2_unless_off_site() -> None:
    fakes = Fakes()
    fakes.store.add("main/app", NEW)

    with pytest.raises(UnknownDatabaseError, match="unknown database 'main/typo'"):
        targets(fakes).named("main/typo", all_=False)
    assert [d.identifier for d in targets(fakes).named("main/typo", all_=False, checked=False)]


def test_a_service_with_every_database_is_no_one_database_to_restore() -> None:
    with pytest.raises(ConfigurationError, match="name one, as 'main/<database>'"):
        targets(Fakes()).one("main")


def test_dumping_an_excluded_database_or_one_not_on_the_server_is_exit_2() -> None:
    fakes = with_server("app", "scratch")

    with pytest.raises(ConfigurationError, match="excluded by MAIN_EXCLUDE_DATABASES"):
        targets(fakes).to_dump("main/scratch", all_=False, server=fakes.servers)
    with pytest.raises(UnknownDatabaseError, match="server has no database 'nope'"):
        targets(fakes).to_dump("main/nope", all_=False, server=fakes.servers)
    found = targets(fakes).to_dump("main/app", all_=False, server=fakes.servers)
    assert [d.identifier for d in found] == ["main/app"]


def status(fakes: Fakes) -> Status:
    heartbeat = FakeHeartbeat(clock=fakes.clock)
    heartbeat.started(FakeClock().now())  # when the fakes' time begins
    return fakes.status(heartbeat)


def test_status_judges_each_database_of_the_server_by_its_own_backups_and_runs() -> None:
    fakes = with_server("app", "crm")
    fakes.backup_run(offsite=False).scheduled([MAIN], share=False)
    fakes.clock.sleep(timedelta(days=1).total_seconds())
    fakes.servers.unreachable.add("main")
    fakes.backup_run(offsite=False).scheduled([MAIN], share=False)

    found = status(fakes)([MAIN])

    assert [(s.database.identifier, s.on_server, s.healthy) for s in found] == [
        ("main/app", True, False),
        ("main/crm", True, False),
    ]
    failure = found[1].last_failure
    assert failure is not None and "cannot list the databases" in str(failure.error)


def test_a_database_gone_from_its_server_is_listed_but_never_judged_stale() -> None:
    fakes = with_server("app", "old")
    run = fakes.backup_run(offsite=False)
    run.scheduled([MAIN], share=False)
    fakes.servers.has["main"] = ["app"]
    fakes.clock.sleep(timedelta(days=2).total_seconds())
    run.scheduled([MAIN], share=False)

    found = {s.database.identifier: s for s in status(fakes)([MAIN])}

    assert (found["main/app"].on_server, found["main/app"].healthy) == (True, True)
    old = found["main/old"]
    assert (old.on_server, old.judged, old.healthy) == (False, False, True)
    assert old.newest is not None and old.newest_age == timedelta(days=2)


def test_a_server_never_listed_shows_as_its_service_and_is_at_fault_after_the_grace() -> None:
    fakes = Fakes()
    fakes.servers.unreachable.add("main")
    fakes.backup_run(offsite=False).scheduled([MAIN], share=False)
    fakes.clock.sleep(timedelta(days=1).total_seconds())

    [found] = status(fakes)([MAIN])

    assert found.database.identifier == "main" and found.judged
    assert not found.healthy
    assert found.last_failure is not None and "cannot list" in str(found.last_failure.error)


def test_a_service_with_wal_archiving_is_shown_beside_its_databases_unjudged() -> None:
    fakes = with_server("app")
    archived = server("main", wal_archive=True)
    fakes.backup_run(offsite=False).scheduled([archived], share=False)

    found = status(fakes)([archived])

    assert [(s.database.identifier, s.judged) for s in found] == [
        ("main", False),
        ("main/app", True),
    ]


def test_a_service_s_own_dead_man_s_switch_hears_the_errors_of_its_databases() -> None:
    errors = {"main/app": "refused", "main/my db": "timeout", "users": "down", "mainly": "x"}

    assert errors_of("main", errors) == "main/app: refused\nmain/my db: timeout"
    assert errors_of("users", errors) == "down"
    assert errors_of("orders", errors) is None


def test_a_dropped_database_s_copies_off_site_age_out_with_its_local_backups() -> None:
    fakes = with_server("app", "old")
    run = fakes.backup_run()
    run.scheduled([MAIN], share=False)
    fakes.clock.sleep(timedelta(days=1).total_seconds())
    run.scheduled([MAIN], share=False)
    fakes.servers.has["main"] = ["app"]
    fakes.clock.sleep(timedelta(days=30).total_seconds())

    report = run.scheduled([MAIN], share=False)

    assert ("delete", "main/old", NEW) in fakes.offsite.actions
    assert ("delete", "main/old", NEW) in fakes.store.actions
    assert len(fakes.store.names("main/old")) == len(fakes.offsite.copies("main/old")) == 1
    assert "main/old" in [r.database.identifier for r in report.pruned_offsite]


def test_a_shared_copy_is_never_restored_into_the_service_of_every_database() -> None:
    fakes = Fakes()
    fakes.store.add("main", NEW)  # the service's own backups, from before '*'

    found = targets(fakes).named("main", all_=False, shared=True)

    assert found == []
    assert [d.identifier for d in targets(fakes).named("main", all_=False)] == ["main"]


def test_each_database_of_a_server_is_judged_by_its_service_s_schedule_and_max_age() -> None:
    fakes = with_server("app")
    fakes.backup_run(offsite=False).scheduled([MAIN], share=False)
    weekly = CronSchedule.parse("@weekly", "UTC")
    heartbeat = FakeHeartbeat(clock=fakes.clock)
    judged = attrs.evolve(
        fakes.status(heartbeat),
        schedules=Schedules(
            common=CronSchedule.parse(DEFAULT_SCHEDULE, "UTC"), own={"main": weekly}
        ),
        max_ages=MaxAges(own={"main": timedelta(days=3)}),
    )

    [found] = judged([MAIN])

    assert found.database.identifier == "main/app"
    assert found.max_age == timedelta(days=3)
    assert found.next_run_at == weekly.next_after(fakes.clock.now())
