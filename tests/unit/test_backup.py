from __future__ import annotations

from datetime import UTC, datetime

from pg_backup_manager.domain.backup import dump_database, dump_databases, prune, scheduled_run
from pg_backup_manager.domain.errors import BusyError, ControllerError, IntegrityError
from pg_backup_manager.domain.model import BackupName, Config, Tier

from .fakes import GOOD_SHA256, LAYOUT, Fakes, database

USERS = database("users")
ORDERS = database("orders")


def config(*, copy_to_shared: bool = False, timezone: str = "UTC", min_kept: int = 1) -> Config:
    return Config(
        databases=(USERS, ORDERS),
        layout=LAYOUT,
        production=True,
        create_shared_dirs=False,
        copy_to_shared=copy_to_shared,
        timezone=timezone,
        schedule="0 3,9,15,21 * * *",
        min_kept=min_kept,
    )


def test_a_dump_is_named_after_its_tier_and_start_time() -> None:
    fakes = Fakes()

    outcome = dump_database(database=USERS, tier=Tier.DAILY, ports=fakes.ports)

    assert outcome.succeeded
    assert fakes.store.names("users") == ["file_daily_2024-07-04T09:00:00Z.dump"]
    assert fakes.dumper.dumped[0][0] == "users"


def test_a_dump_is_checked_and_its_checksum_recorded_under_the_lock() -> None:
    fakes = Fakes()

    outcome = dump_database(database=USERS, tier=Tier.DAILY, ports=fakes.ports)

    assert outcome.backup is not None
    assert fakes.checker.checked == [fakes.dumper.dumped[0][1]]
    assert fakes.store.checksum_of("users", outcome.backup.name) == GOOD_SHA256
    assert fakes.locks.held == ["users"]


def test_an_archive_that_fails_its_check_is_not_a_backup() -> None:
    fakes = Fakes()
    fakes.checker.unreadable.add("file_daily_2024-07-04T09:00:00Z.dump")

    outcome = dump_database(database=USERS, tier=Tier.DAILY, ports=fakes.ports)

    assert isinstance(outcome.error, IntegrityError)
    assert fakes.store.names("users") == []


def test_a_busy_database_is_reported_as_busy_and_not_dumped() -> None:
    fakes = Fakes()
    fakes.locks.busy.add("users")

    outcome = dump_database(database=USERS, tier=Tier.DAILY, ports=fakes.ports)

    assert isinstance(outcome.error, BusyError)
    assert fakes.dumper.dumped == []


def test_a_second_dump_in_the_same_second_gets_the_next_second() -> None:
    fakes = Fakes()
    fakes.store.add("users", "file_weekly_2024-07-04T09:00:00Z.dump")

    dump_database(database=USERS, tier=Tier.DAILY, ports=fakes.ports)

    assert fakes.store.names("users")[0] == "file_daily_2024-07-04T09:00:01Z.dump"


def test_a_failed_dump_is_reported_not_raised_and_leaves_no_backup() -> None:
    fakes = Fakes()
    fakes.dumper.failing.add("users")

    outcome = dump_database(database=USERS, tier=Tier.DAILY, ports=fakes.ports)

    assert not outcome.succeeded
    assert isinstance(outcome.error, ControllerError)
    assert fakes.store.names("users") == []


def test_a_shared_dump_is_copied_to_the_shared_archive() -> None:
    fakes = Fakes()

    outcome = dump_database(database=USERS, tier=Tier.DAILY, ports=fakes.ports, shared=True)

    assert outcome.shared_copy is not None
    assert fakes.store.shared["users"] == BackupName.parse("file_daily_2024-07-04T09:00:00Z.dump")


def test_parallel_dumps_report_every_database_in_order() -> None:
    fakes = Fakes()
    fakes.dumper.failing.add("users")

    outcomes = dump_databases(
        databases=[USERS, ORDERS], tier=Tier.DAILY, ports=fakes.ports, parallelism=2
    )

    assert [(o.database.identifier, o.succeeded) for o in outcomes] == [
        ("users", False),
        ("orders", True),
    ]


def test_prune_deletes_what_the_plan_deletes_and_a_dry_run_deletes_nothing() -> None:
    fakes = Fakes()
    fakes.store.add(
        "users",
        "file_daily_2024-07-04T03:00:00Z.dump",
        "file_daily_2024-06-20T03:00:00Z.dump",
    )

    dry = prune(database=USERS, ports=fakes.ports, dry_run=True)
    assert fakes.store.actions == []
    real = prune(database=USERS, ports=fakes.ports)

    assert dry == real
    assert fakes.store.names("users") == ["file_daily_2024-07-04T03:00:00Z.dump"]


def test_a_scheduled_run_on_the_first_makes_monthly_backups_of_every_database() -> None:
    fakes = Fakes()
    fakes.clock.current = datetime(2024, 6, 1, 3, 0, tzinfo=UTC)

    scheduled_run(config=config(), ports=fakes.ports)

    assert fakes.store.names("users") == ["file_monthly_2024-06-01T03:00:00Z.dump"]
    assert fakes.store.names("orders") == ["file_monthly_2024-06-01T03:00:00Z.dump"]


def test_the_tier_of_a_scheduled_run_follows_the_local_date() -> None:
    fakes = Fakes()
    # 22:00 UTC on Friday 31 May is 00:00 on Saturday 1 June in Berlin.
    fakes.clock.current = datetime(2024, 5, 31, 22, 0, tzinfo=UTC)

    scheduled_run(config=config(timezone="Europe/Berlin"), ports=fakes.ports)

    assert fakes.store.names("users")[0].startswith("file_monthly_2024-05-31T22")


def test_a_scheduled_run_copies_to_shared_when_asked() -> None:
    fakes = Fakes()

    scheduled_run(config=config(copy_to_shared=True), ports=fakes.ports)

    assert set(fakes.store.shared) == {"users", "orders"}


def test_retention_runs_only_for_databases_whose_dump_succeeded() -> None:
    expired = "file_daily_2024-05-01T03:00:00Z.dump"
    fakes = Fakes()
    fakes.store.add("users", expired, "file_daily_2024-07-03T03:00:00Z.dump")
    fakes.store.add("orders", expired, "file_daily_2024-07-03T03:00:00Z.dump")
    fakes.dumper.failing.add("orders")

    outcomes = scheduled_run(config=config(), ports=fakes.ports)

    assert [o.succeeded for o in outcomes] == [True, False]
    assert expired not in fakes.store.names("users")
    assert expired in fakes.store.names("orders")


def test_scheduled_retention_keeps_the_configured_minimum() -> None:
    old = ["file_daily_2024-05-01T03:00:00Z.dump", "file_daily_2024-05-02T03:00:00Z.dump"]
    fakes = Fakes()
    fakes.store.add("users", *old)

    scheduled_run(config=config(min_kept=3), ports=fakes.ports)

    assert set(old) <= set(fakes.store.names("users"))
