from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pg_backup_manager.domain.errors import (
    BackupNotFoundError,
    InvalidBackupNameError,
    ToolError,
)
from pg_backup_manager.domain.restore import restore_backup, restore_shared, scratch_name

from .fakes import FakeBackupStore, FakeClock, FakeDatabaseServer, FakeRestorer, database

USERS = database("users", dbname="app")
BACKUP = "file_daily_2024-07-04T03:00:00Z.dump"
SCRATCH = "app_restore_20240704090000"
ASIDE = "app_replaced_20240704090000"


def store_with_backup() -> FakeBackupStore:
    store = FakeBackupStore()
    store.add("users", BACKUP)
    return store


def test_a_restore_loads_a_scratch_database_then_swaps_it_in() -> None:
    server = FakeDatabaseServer(databases={"postgres", "app"})
    restorer = FakeRestorer()

    restore_backup(
        database=USERS,
        backup=BACKUP,
        store=store_with_backup(),
        server=server,
        restorer=restorer,
        clock=FakeClock(),
    )

    assert restorer.restored[0][1] == SCRATCH
    assert str(restorer.restored[0][2]).endswith(f"/users/{BACKUP}")
    assert server.actions == [
        f"drop {SCRATCH}",
        f"create {SCRATCH}",
        f"rename app {ASIDE}",
        f"rename {SCRATCH} app",
        f"drop {ASIDE}",
    ]
    assert server.databases == {"postgres", "app"}


def test_a_failed_load_leaves_the_target_untouched_and_no_scratch_database() -> None:
    server = FakeDatabaseServer(databases={"postgres", "app"})

    with pytest.raises(ToolError):
        restore_backup(
            database=USERS,
            backup=BACKUP,
            store=store_with_backup(),
            server=server,
            restorer=FakeRestorer(failing=True),
            clock=FakeClock(),
        )

    assert server.databases == {"postgres", "app"}
    assert not any(action.startswith("rename") for action in server.actions)


def test_a_failed_swap_puts_the_old_database_back() -> None:
    server = FakeDatabaseServer(databases={"postgres", "app"}, failing_renames={(SCRATCH, "app")})

    with pytest.raises(ToolError):
        restore_backup(
            database=USERS,
            backup=BACKUP,
            store=store_with_backup(),
            server=server,
            restorer=FakeRestorer(),
            clock=FakeClock(),
        )

    assert server.databases == {"postgres", "app"}
    assert server.actions[-2:] == [f"rename {ASIDE} app", f"drop {SCRATCH}"]


def test_a_restore_creates_a_missing_target() -> None:
    server = FakeDatabaseServer(databases={"postgres"})

    restore_backup(
        database=USERS,
        backup=BACKUP,
        store=store_with_backup(),
        server=server,
        restorer=FakeRestorer(),
        clock=FakeClock(),
    )

    assert server.databases == {"postgres", "app"}


@pytest.mark.parametrize("bad", ["../" + BACKUP, "/tmp/" + BACKUP, "file.dump", "x/../y"])
def test_a_backup_name_with_a_path_is_refused_before_anything_happens(bad: str) -> None:
    server = FakeDatabaseServer()

    with pytest.raises(InvalidBackupNameError):
        restore_backup(
            database=USERS,
            backup=bad,
            store=store_with_backup(),
            server=server,
            restorer=FakeRestorer(),
            clock=FakeClock(),
        )

    assert server.actions == []


def test_a_missing_backup_is_reported_before_anything_happens() -> None:
    server = FakeDatabaseServer()

    with pytest.raises(BackupNotFoundError):
        restore_backup(
            database=USERS,
            backup="file_daily_2020-01-01T00:00:00Z.dump",
            store=store_with_backup(),
            server=server,
            restorer=FakeRestorer(),
            clock=FakeClock(),
        )

    assert server.actions == []


def test_restore_from_shared_uses_the_shared_archive_and_can_skip_owners() -> None:
    store = store_with_backup()
    store.share("users", store.backups("users")[0].name)
    restorer = FakeRestorer()

    restore_shared(
        database=USERS,
        store=store,
        server=FakeDatabaseServer(),
        restorer=restorer,
        clock=FakeClock(),
        owners=False,
    )

    assert str(restorer.restored[0][2]) == "/backup/shared/users/file.dump"
    assert restorer.restored[0][3] is False


def test_without_a_shared_archive_restore_from_shared_says_how_to_make_one() -> None:
    with pytest.raises(BackupNotFoundError):
        restore_shared(
            database=USERS,
            store=FakeBackupStore(),
            server=FakeDatabaseServer(),
            restorer=FakeRestorer(),
            clock=FakeClock(),
        )


def test_scratch_names_fit_in_63_bytes_even_for_long_unicode_names() -> None:
    name = scratch_name("ü" * 60, "restore", datetime(2024, 7, 4, tzinfo=UTC))

    assert len(name.encode()) <= 63
    assert name.endswith("_restore_20240704000000")
