from __future__ import annotations

from datetime import UTC, datetime

from pg_backup_manager.domain.backup import dump_database, prune, scheduled_run
from pg_backup_manager.domain.errors import ControllerError
from pg_backup_manager.domain.model import BackupName, Config, Tier

from .fakes import LAYOUT, FakeBackupStore, FakeClock, FakeDumper, database

USERS = database("users")
ORDERS = database("orders")


def config(*, copy_to_shared: bool = False, timezone: str = "UTC") -> Config:
    return Config(
        databases=(USERS, ORDERS),
        layout=LAYOUT,
        production=True,
        create_shared_dirs=False,
        copy_to_shared=copy_to_shared,
        timezone=timezone,
        schedule="0 3,9,15,21 * * *",
    )


def test_a_dump_is_named_after_its_tier_and_start_time() -> None:
    store, dumper = FakeBackupStore(), FakeDumper()

    outcome = dump_database(
        database=USERS, tier=Tier.DAILY, clock=FakeClock(), store=store, dumper=dumper
    )

    assert outcome.succeeded
    assert store.names("users") == ["file_daily_2024-07-04T09:00:00Z.dump"]
    assert dumper.dumped[0][0] == "users"


def test_a_second_dump_in_the_same_second_gets_the_next_second() -> None:
    store = FakeBackupStore()
    store.add("users", "file_weekly_2024-07-04T09:00:00Z.dump")

    dump_database(
        database=USERS, tier=Tier.DAILY, clock=FakeClock(), store=store, dumper=FakeDumper()
    )

    assert store.names("users")[0] == "file_daily_2024-07-04T09:00:01Z.dump"


def test_a_failed_dump_is_reported_not_raised_and_leaves_no_backup() -> None:
    store = FakeBackupStore()

    outcome = dump_database(
        database=USERS,
        tier=Tier.DAILY,
        clock=FakeClock(),
        store=store,
        dumper=FakeDumper(failing={"users"}),
    )

    assert not outcome.succeeded
    assert isinstance(outcome.error, ControllerError)
    assert store.names("users") == []


def test_a_shared_dump_is_copied_to_the_shared_archive() -> None:
    store = FakeBackupStore()

    outcome = dump_database(
        database=USERS,
        tier=Tier.DAILY,
        clock=FakeClock(),
        store=store,
        dumper=FakeDumper(),
        shared=True,
    )

    assert outcome.shared_copy is not None
    assert store.shared["users"] == BackupName.parse("file_daily_2024-07-04T09:00:00Z.dump")


def test_prune_deletes_what_the_plan_deletes_and_a_dry_run_deletes_nothing() -> None:
    store = FakeBackupStore()
    store.add(
        "users",
        "file_daily_2024-07-04T03:00:00Z.dump",
        "file_daily_2024-06-20T03:00:00Z.dump",
    )

    dry = prune(database=USERS, clock=FakeClock(), store=store, dry_run=True)
    assert store.actions == []
    real = prune(database=USERS, clock=FakeClock(), store=store)

    assert dry == real
    assert store.names("users") == ["file_daily_2024-07-04T03:00:00Z.dump"]


def test_a_scheduled_run_on_the_first_makes_monthly_backups_of_every_database() -> None:
    store = FakeBackupStore()
    clock = FakeClock(current=datetime(2024, 6, 1, 3, 0, tzinfo=UTC))

    scheduled_run(config=config(), clock=clock, store=store, dumper=FakeDumper())

    assert store.names("users") == ["file_monthly_2024-06-01T03:00:00Z.dump"]
    assert store.names("orders") == ["file_monthly_2024-06-01T03:00:00Z.dump"]


def test_the_tier_of_a_scheduled_run_follows_the_local_date() -> None:
    store = FakeBackupStore()
    # 22:00 UTC on Friday 31 May is 00:00 on Saturday 1 June in Berlin.
    clock = FakeClock(current=datetime(2024, 5, 31, 22, 0, tzinfo=UTC))

    scheduled_run(
        config=config(timezone="Europe/Berlin"), clock=clock, store=store, dumper=FakeDumper()
    )

    assert store.names("users")[0].startswith("file_monthly_2024-05-31T22")


def test_a_scheduled_run_copies_to_shared_when_asked() -> None:
    store = FakeBackupStore()

    scheduled_run(
        config=config(copy_to_shared=True), clock=FakeClock(), store=store, dumper=FakeDumper()
    )

    assert set(store.shared) == {"users", "orders"}


def test_retention_runs_only_for_databases_whose_dump_succeeded() -> None:
    expired = "file_daily_2024-05-01T03:00:00Z.dump"
    store = FakeBackupStore()
    store.add("users", expired, "file_daily_2024-07-03T03:00:00Z.dump")
    store.add("orders", expired, "file_daily_2024-07-03T03:00:00Z.dump")

    outcomes = scheduled_run(
        config=config(), clock=FakeClock(), store=store, dumper=FakeDumper(failing={"orders"})
    )

    assert [o.succeeded for o in outcomes] == [True, False]
    assert expired not in store.names("users")
    assert expired in store.names("orders")
