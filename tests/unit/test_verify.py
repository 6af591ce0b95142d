from __future__ import annotations

import pytest

from pg_backup_manager.domain.errors import BackupNotFoundError, BusyError
from pg_backup_manager.domain.model import BackupName
from pg_backup_manager.domain.verify import verify_backups

from .fakes import GOOD_SHA256, Fakes, database

USERS = database("users", dbname="app")
NEW = "file_daily_2024-07-04T03:00:00Z.dump"
OLD = "file_daily_2024-07-03T03:00:00Z.dump"


def fakes_with(*names: str) -> Fakes:
    fakes = Fakes()
    for name in names:
        fakes.store.add("users", name)
        fakes.store.checksums["users", BackupName.parse(name)] = GOOD_SHA256
    return fakes


def test_every_backup_is_checked_newest_first() -> None:
    fakes = fakes_with(OLD, NEW)

    checks = verify_backups(database=USERS, ports=fakes.ports)

    assert [(str(c.name), c.passed) for c in checks] == [(NEW, True), (OLD, True)]
    assert [p.name for p in fakes.checker.checked] == [NEW, OLD]


def test_a_checksum_mismatch_fails_that_backup_only() -> None:
    fakes = fakes_with(OLD, NEW)
    fakes.checker.hashes[OLD] = "b" * 64

    checks = verify_backups(database=USERS, ports=fakes.ports)

    assert [c.passed for c in checks] == [True, False]
    assert "corrupt" in (checks[1].problem or "")


def test_an_unreadable_archive_fails() -> None:
    fakes = fakes_with(NEW)
    fakes.checker.unreadable.add(NEW)

    [check] = verify_backups(database=USERS, ports=fakes.ports)

    assert not check.passed


def test_one_named_backup_can_be_verified_and_a_missing_one_is_an_error() -> None:
    fakes = fakes_with(OLD, NEW)

    [check] = verify_backups(database=USERS, ports=fakes.ports, backup=OLD)

    assert str(check.name) == OLD
    with pytest.raises(BackupNotFoundError):
        verify_backups(
            database=USERS, ports=fakes.ports, backup="file_daily_2020-01-01T00:00:00Z.dump"
        )


def test_a_restore_check_compares_row_counts_and_drops_its_scratch_database() -> None:
    fakes = fakes_with(NEW)

    [check] = verify_backups(database=USERS, ports=fakes.ports, restore_ports=fakes.restore_ports)

    scratch = "app_verify_20240704090000"
    assert check.passed
    assert fakes.restorer.restored[0][1] == scratch
    assert fakes.server.actions[-1] == f"drop {scratch}"
    assert scratch not in fakes.server.databases


def test_rows_missing_after_a_restore_fail_the_check() -> None:
    fakes = fakes_with(NEW)
    fakes.server.rows = {"public.t": 2}

    [check] = verify_backups(database=USERS, ports=fakes.ports, restore_ports=fakes.restore_ports)

    assert not check.passed
    assert "public.t: 2 rows, archive has 3" in (check.problem or "")


def test_verify_waits_for_no_one_holding_the_lock() -> None:
    fakes = fakes_with(NEW)
    fakes.locks.busy.add("users")

    with pytest.raises(BusyError):
        verify_backups(database=USERS, ports=fakes.ports)


def test_a_backup_without_checksum_file_fails_verification() -> None:
    fakes = fakes_with(NEW)
    fakes.store.checksums.clear()

    [check] = verify_backups(database=USERS, ports=fakes.ports)

    assert not check.passed
    assert "no checksum file" in (check.problem or "")
