from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from pg_backup_manager.domain.backups.backup_run import BackupRun, RunReport
from pg_backup_manager.domain.backups.dumping import DumpResult
from pg_backup_manager.domain.backups.offsite_steps import NoOffsite
from pg_backup_manager.domain.backups.policy import RetentionPolicy
from pg_backup_manager.domain.backups.pruning import PruneResult
from pg_backup_manager.domain.errors import BusyError, ControllerError, IntegrityError, ToolError
from pg_backup_manager.domain.names import BackupName, Tier
from pg_backup_manager.domain.restore.scratch import Purpose, ScratchNames

from .fakes import GOOD_SHA256, Fakes, database

USERS = database("users")
ORDERS = database("orders")


def dump_users(fakes: Fakes, *, tier: Tier | None = None, share: bool = False) -> DumpResult:
    [result] = fakes.take_backups()([USERS], tier=tier, share=share).results
    return result


def scheduled(
    fakes: Fakes, *, copy_to_shared: bool = False, timezone: str = "UTC", min_kept: int = 1
) -> Callable[[], RunReport]:
    run = BackupRun(
        expand=fakes.expand_run(),
        take_backups=fakes.take_backups(timezone=timezone),
        offsite=NoOffsite(),
        prune=fakes.prune(policy=RetentionPolicy(min_kept=min_kept)),
        tell=fakes.tell(),
    )
    return lambda: run.scheduled((USERS, ORDERS), share=copy_to_shared)


def test_a_dump_is_named_after_its_tier_and_start_time() -> None:
    fakes = Fakes()

    result = dump_users(fakes, tier=Tier.DAILY)

    assert result.succeeded
    assert fakes.store.names("users") == ["file_daily_2024-07-04T09:00:00Z.dump"]
    assert fakes.dumper.dumped[0][0] == "users"


def test_without_a_tier_a_dump_follows_the_rule_of_scheduled_runs() -> None:
    fakes = Fakes()
    fakes.clock.current = datetime(2024, 7, 6, 9, 0, tzinfo=UTC)  # a Saturday

    dump_users(fakes)

    assert fakes.store.names("users") == ["file_weekly_2024-07-06T09:00:00Z.dump"]


def test_a_dump_is_checked_and_its_checksum_recorded_under_the_lock() -> None:
    fakes = Fakes()

    result = dump_users(fakes)

    assert result.backup is not None
    assert fakes.checker.checked == [fakes.dumper.dumped[0][1], fakes.dumper.globals_dumped[0][1]]
    assert fakes.store.checksums["users", result.backup.name] == GOOD_SHA256
    assert fakes.store.globals_checksums["users", result.backup.name] == GOOD_SHA256
    assert fakes.locks.held == ["users"]


def test_the_globals_are_dumped_beside_the_archive_and_kept_with_it() -> None:
    fakes = Fakes()

    result = dump_users(fakes)

    assert result.backup is not None and result.backup.has_globals
    [(_, archive)] = fakes.dumper.dumped
    [(_, globals_file)] = fakes.dumper.globals_dumped
    assert globals_file == archive.with_name("file_daily_2024-07-04T09:00:00Z.globals.sql")


def test_a_dump_whose_globals_fail_is_no_backup() -> None:
    fakes = Fakes()
    fakes.dumper.failing_globals = True

    result = dump_users(fakes)

    assert isinstance(result.error, ToolError)
    assert "pg_dumpall" in str(result.error)
    assert fakes.store.names("users") == []


def test_an_archive_that_fails_its_check_is_not_a_backup() -> None:
    fakes = Fakes()
    fakes.checker.unreadable.add("file_daily_2024-07-04T09:00:00Z.dump")

    result = dump_users(fakes)

    assert isinstance(result.error, IntegrityError)
    assert fakes.store.names("users") == []


def test_a_busy_database_is_reported_as_busy_and_not_dumped() -> None:
    fakes = Fakes()
    fakes.locks.busy.add("users")

    result = dump_users(fakes)

    assert isinstance(result.error, BusyError)
    assert fakes.dumper.dumped == []


def test_a_second_dump_in_the_same_second_gets_the_next_second() -> None:
    fakes = Fakes()
    fakes.store.add("users", "file_weekly_2024-07-04T09:00:00Z.dump")

    dump_users(fakes, tier=Tier.DAILY)

    assert fakes.store.names("users")[0] == "file_daily_2024-07-04T09:00:01Z.dump"


def test_a_failed_dump_is_reported_not_raised_and_leaves_no_backup() -> None:
    fakes = Fakes()
    fakes.dumper.failing.add("users")

    result = dump_users(fakes)

    assert not result.succeeded
    assert isinstance(result.error, ControllerError)
    assert fakes.store.names("users") == []


def test_a_dump_of_a_target_a_killed_restore_set_aside_says_where_it_is() -> None:
    fakes = Fakes()
    fakes.dumper.failing.add("users")
    aside = ScratchNames(identifier="users", target="app").name(
        Purpose.REPLACED, datetime(2024, 1, 1, tzinfo=UTC)
    )
    fakes.server.databases.add(aside)

    result = dump_users(fakes)

    assert result.error is not None
    assert f"'{aside}' holds its content" in str(result.error)
    assert "controller verify users --restore" in str(result.error)


def test_a_shared_dump_is_copied_to_the_shared_archive() -> None:
    fakes = Fakes()

    result = dump_users(fakes, share=True)

    assert result.shared_copy is not None
    assert fakes.store.shared["users"] == BackupName.parse("file_daily_2024-07-04T09:00:00Z.dump")


def test_parallel_dumps_report_every_database_in_order_with_the_worst_exit_code() -> None:
    fakes = Fakes()
    fakes.dumper.failing.add("users")

    report = fakes.take_backups(parallelism=2)([USERS, ORDERS])

    assert [(r.database.identifier, r.succeeded) for r in report.results] == [
        ("users", False),
        ("orders", True),
    ]
    assert report.exit_code == 1


def test_prune_deletes_what_the_plan_deletes_and_a_dry_run_deletes_nothing() -> None:
    fakes = Fakes()
    fakes.store.add(
        "users",
        "file_daily_2024-07-04T03:00:00Z.dump",
        "file_daily_2024-06-20T03:00:00Z.dump",
    )

    [dry] = fakes.prune()([USERS], dry_run=True)
    assert fakes.store.actions == []
    [real] = fakes.prune()([USERS])

    assert dry.plan == real.plan
    assert fakes.store.names("users") == ["file_daily_2024-07-04T03:00:00Z.dump"]


def test_a_scheduled_run_on_the_first_makes_monthly_backups_of_every_database() -> None:
    fakes = Fakes()
    fakes.clock.current = datetime(2024, 6, 1, 3, 0, tzinfo=UTC)

    scheduled(fakes)()

    assert fakes.store.names("users") == ["file_monthly_2024-06-01T03:00:00Z.dump"]
    assert fakes.store.names("orders") == ["file_monthly_2024-06-01T03:00:00Z.dump"]


def test_the_tier_of_a_scheduled_run_follows_the_local_date() -> None:
    fakes = Fakes()
    # 22:00 UTC on Friday 31 May is 00:00 on Saturday 1 June in Berlin.
    fakes.clock.current = datetime(2024, 5, 31, 22, 0, tzinfo=UTC)

    scheduled(fakes, timezone="Europe/Berlin")()

    assert fakes.store.names("users")[0].startswith("file_monthly_2024-05-31T22")


def test_a_scheduled_run_copies_to_shared_when_asked() -> None:
    fakes = Fakes()

    scheduled(fakes, copy_to_shared=True)()

    assert set(fakes.store.shared) == {"users", "orders"}


def test_retention_runs_only_for_databases_whose_dump_succeeded() -> None:
    expired = "file_daily_2024-05-01T03:00:00Z.dump"
    fakes = Fakes()
    fakes.store.add("users", expired, "file_daily_2024-07-03T03:00:00Z.dump")
    fakes.store.add("orders", expired, "file_daily_2024-07-03T03:00:00Z.dump")
    fakes.dumper.failing.add("orders")

    report = scheduled(fakes)()

    assert [r.succeeded for r in report.dumps.results] == [True, False]
    assert [p.database.identifier for p in report.pruned] == ["users"]
    assert expired not in fakes.store.names("users")
    assert expired in fakes.store.names("orders")


def test_a_retention_that_fails_is_reported_and_the_run_goes_on() -> None:
    fakes = Fakes()
    run = scheduled(fakes)
    fakes.locks.busy_after_first.add("users")

    report = run()

    assert [type(p).__name__ for p in report.pruned] == ["PruneFailure", "PruneResult"]


def test_scheduled_retention_keeps_the_configured_minimum() -> None:
    old = ["file_daily_2024-05-01T03:00:00Z.dump", "file_daily_2024-05-02T03:00:00Z.dump"]
    fakes = Fakes()
    fakes.store.add("users", *old)

    report = scheduled(fakes, min_kept=3)()

    assert set(old) <= set(fakes.store.names("users"))
    assert all(isinstance(p, PruneResult) for p in report.pruned)
