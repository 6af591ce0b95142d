from __future__ import annotations

import pytest

from pg_backup_manager.domain.errors import BusyError, ServerRunningError
from pg_backup_manager.domain.wal.ports import LockFile
from pg_backup_manager.domain.wal.reset import ResetReport

from .fakes import LAYOUT, Fakes, database

USERS = database("users")


def reset(fakes: Fakes, *, dry_run: bool = False, force: bool = False) -> ResetReport:
    return fakes.reset_wal()(USERS, dry_run=dry_run, force=force)


def test_resetwal_runs_on_the_databases_data_directory_and_says_what_next() -> None:
    fakes = Fakes()

    report = reset(fakes)

    assert fakes.resetter.resets == [(LAYOUT.database_dir("users"), False)]
    assert report.output == "Write-ahead log reset" and not report.dry_run


def test_what_a_reset_changes_is_saved_in_the_backup_directory_first() -> None:
    fakes = Fakes()

    report = reset(fakes)

    assert [str(p) for p in fakes.resetter.preserved] == [
        "/backup/data/users/resetwal-2024-07-04T09:00:00Z"
    ]
    assert str(report.evidence) == "/backup/data/users/resetwal-2024-07-04T09:00:00Z"


def test_force_is_passed_only_when_asked() -> None:
    fakes = Fakes()

    reset(fakes, force=True)

    assert fakes.resetter.resets == [(LAYOUT.database_dir("users"), True)]


def test_a_dry_run_only_previews() -> None:
    fakes = Fakes()

    report = reset(fakes, dry_run=True)

    assert fakes.resetter.resets == []
    assert fakes.resetter.preserved == []
    assert fakes.resetter.previews == [LAYOUT.database_dir("users")]
    assert report.dry_run


@pytest.mark.parametrize("alive", [True, False])
def test_resetwal_refuses_while_a_server_holds_the_directory(alive: bool) -> None:
    fakes = Fakes()
    fakes.resetter.lock = LockFile(pid=42, alive=alive)

    with pytest.raises(ServerRunningError, match="42"):
        reset(fakes, force=True)

    assert fakes.resetter.resets == []
    assert fakes.resetter.previews == []


def test_resetwal_waits_for_no_one_holding_the_databases_lock() -> None:
    fakes = Fakes()
    fakes.locks.busy.add("users")

    with pytest.raises(BusyError):
        reset(fakes)

    assert fakes.resetter.resets == []
