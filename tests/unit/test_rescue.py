from __future__ import annotations

import pytest

from pg_backup_manager.domain.errors import BusyError, ServerRunningError
from pg_backup_manager.domain.ports import LockFile
from pg_backup_manager.domain.rescue import ResetReport, reset_wal

from .fakes import LAYOUT, Fakes, database

USERS = database("users")


def reset(fakes: Fakes, **options: bool) -> ResetReport:
    return reset_wal(
        database=USERS,
        layout=LAYOUT,
        resetter=fakes.resetter,
        locks=fakes.locks,
        clock=fakes.clock,
        **options,
    )


def test_resetwal_runs_on_the_databases_data_directory_and_says_what_next() -> None:
    fakes = Fakes()

    report = reset(fakes)

    assert fakes.resetter.resets == [(LAYOUT.database_dir("users"), False)]
    assert "controller dump users" in report.next_steps


def test_what_a_reset_changes_is_saved_in_the_backup_directory_first() -> None:
    fakes = Fakes()

    report = reset(fakes)

    assert [str(p) for p in fakes.resetter.preserved] == [
        "/backup/data/users/resetwal-2024-07-04T09:00:00Z"
    ]
    assert "resetwal-2024-07-04T09:00:00Z" in report.output


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
