from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pg_backup_manager.domain.errors import BackupNotFoundError, BusyError, ControllerError
from pg_backup_manager.domain.model import ArchiveTable, TableName
from pg_backup_manager.domain.names import BackupName
from pg_backup_manager.domain.restore.scratch import Purpose, ScratchNames
from pg_backup_manager.domain.restore.verifying import Check, VerifyReport, row_count_differences

from .fakes import GOOD_SHA256, Fakes, database

USERS = database("users", dbname="app")
NEW = "file_daily_2024-07-04T03:00:00Z.dump"
OLD = "file_daily_2024-07-03T03:00:00Z.dump"
NOW = datetime(2024, 7, 4, 9, 0, tzinfo=UTC)


def verify(fakes: Fakes) -> Check:
    [check] = verify_backups(fakes, restore=True).checks
    return check


def verify_backups(
    fakes: Fakes, *, backup: str | None = None, restore: bool = False
) -> VerifyReport:
    [report] = fakes.verify()([USERS], backup=backup, restore=restore)
    return report


def fakes_with(*names: str) -> Fakes:
    fakes = Fakes()
    for name in names:
        fakes.store.add("users", name)
        fakes.store.checksums["users", BackupName.parse(name)] = GOOD_SHA256
    return fakes


def test_every_backup_is_checked_newest_first() -> None:
    fakes = fakes_with(OLD, NEW)

    checks = verify_backups(fakes).checks

    assert [(str(c.name), c.passed) for c in checks] == [(NEW, True), (OLD, True)]
    assert [p.name for p in fakes.checker.checked] == [NEW, OLD]


def test_a_checksum_mismatch_fails_that_backup_only() -> None:
    fakes = fakes_with(OLD, NEW)
    fakes.checker.hashes[OLD] = "b" * 64

    checks = verify_backups(fakes).checks

    assert [c.passed for c in checks] == [True, False]
    assert "corrupt" in (checks[1].problem or "")


def test_an_unreadable_archive_fails() -> None:
    fakes = fakes_with(NEW)
    fakes.checker.unreadable.add(NEW)

    [check] = verify_backups(fakes).checks

    assert not check.passed


def test_one_named_backup_can_be_verified_and_a_missing_one_is_an_error() -> None:
    fakes = fakes_with(OLD, NEW)

    [check] = verify_backups(fakes, backup=OLD).checks

    assert str(check.name) == OLD
    with pytest.raises(BackupNotFoundError):
        verify_backups(fakes, backup="file_daily_2020-01-01T00:00:00Z.dump")


def test_a_restore_check_compares_row_counts_and_drops_its_scratch_database() -> None:
    fakes = fakes_with(NEW)

    check = verify(fakes)

    scratch = ScratchNames(identifier="users", target="app").name(Purpose.VERIFY, NOW)
    assert check.passed
    assert fakes.restorer.restored[0][1] == scratch
    assert fakes.server.actions[-1] == f"drop {scratch}"
    assert scratch not in fakes.server.databases


def test_rows_missing_after_a_restore_fail_the_check() -> None:
    fakes = fakes_with(NEW)
    fakes.server.rows = {TableName(schema="public", table="t"): 2}

    check = verify(fakes)

    assert not check.passed
    assert "public.t: 2 rows, archive has 3" in (check.problem or "")


def test_verify_waits_for_no_one_holding_the_lock() -> None:
    fakes = fakes_with(NEW)
    fakes.locks.busy.add("users")

    with pytest.raises(BusyError):
        verify_backups(fakes)


def test_a_backup_without_checksum_file_fails_verification() -> None:
    fakes = fakes_with(NEW)
    fakes.store.checksums.clear()

    [check] = verify_backups(fakes).checks

    assert not check.passed
    assert "no checksum file" in (check.problem or "")


def test_an_unreadable_checksum_file_fails_that_backup_and_the_others_are_checked() -> None:
    fakes = fakes_with(OLD, NEW)
    fakes.store.unreadable_checksums.add(NEW)

    checks = verify_backups(fakes).checks

    assert [c.passed for c in checks] == [False, True]
    assert "cannot read" in (checks[0].problem or "")


def test_a_server_that_cannot_make_the_scratch_database_is_an_error_not_a_bad_backup() -> None:
    fakes = fakes_with(NEW)
    fakes.server.failing_creates = True

    with pytest.raises(ControllerError, match="could not connect"):
        verify(fakes)


def test_a_failed_load_fails_the_backup_and_drops_the_scratch_database() -> None:
    fakes = fakes_with(NEW)
    fakes.restorer.failing = True

    check = verify(fakes)

    assert not check.passed
    assert "restore failed" in (check.problem or "")
    assert fakes.server.databases == {"postgres", "template0", "template1"}


def test_verify_restore_puts_back_a_target_an_interrupted_restore_left_aside() -> None:
    fakes = fakes_with(NEW)
    aside = ScratchNames(identifier="users", target="app").name(Purpose.REPLACED, NOW)
    fakes.server.databases.add(aside)

    report = verify_backups(fakes, restore=True)

    assert report.leftovers.put_back == aside
    assert "app" in fakes.server.databases


@pytest.mark.parametrize(
    ("schema", "table"),
    [
        ("public", "Sales (2024)"),
        ("public", "COPY x FROM stdin;"),
        ('Weird "Schema" $x', "t"),
        ("public", "line\nbreak"),
    ],
)
def test_row_counts_match_tables_by_their_exact_names_whatever_they_hold(
    schema: str, table: str
) -> None:
    listed = f"{schema} {table} postgres".replace("\n", " ")
    restored = {
        TableName(schema=schema, table=table): 7,
        TableName(schema="public", table="Sales"): 1,
    }

    assert row_count_differences([ArchiveTable(label=listed, rows=7)], restored) == []
    assert row_count_differences([ArchiveTable(label=listed, rows=8)], restored) != []


def test_a_table_missing_after_the_restore_is_a_difference() -> None:
    wrong = row_count_differences([ArchiveTable(label="public gone postgres", rows=1)], {})

    assert wrong == ["public gone postgres: missing after restore, archive has 1 rows"]
