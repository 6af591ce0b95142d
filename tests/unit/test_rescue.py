from __future__ import annotations

import pytest

from pg_backup_manager.domain.errors import ServerRunningError
from pg_backup_manager.domain.ports import LockFile
from pg_backup_manager.domain.rescue import reset_wal

from .fakes import LAYOUT, FakeWalResetter, database

USERS = database("users")


def test_resetwal_runs_on_the_databases_data_directory_and_says_what_next() -> None:
    resetter = FakeWalResetter()

    report = reset_wal(database=USERS, layout=LAYOUT, resetter=resetter)

    assert resetter.resets == [(LAYOUT.database_dir("users"), False)]
    assert "controller dump users" in report.next_steps


def test_force_is_passed_only_when_asked() -> None:
    resetter = FakeWalResetter()

    reset_wal(database=USERS, layout=LAYOUT, resetter=resetter, force=True)

    assert resetter.resets == [(LAYOUT.database_dir("users"), True)]


def test_a_dry_run_only_previews() -> None:
    resetter = FakeWalResetter()

    report = reset_wal(database=USERS, layout=LAYOUT, resetter=resetter, dry_run=True)

    assert resetter.resets == []
    assert resetter.previews == [LAYOUT.database_dir("users")]
    assert report.dry_run


@pytest.mark.parametrize("alive", [True, False])
def test_resetwal_refuses_while_a_server_holds_the_directory(alive: bool) -> None:
    resetter = FakeWalResetter(lock=LockFile(pid=42, alive=alive))

    with pytest.raises(ServerRunningError, match="42"):
        reset_wal(database=USERS, layout=LAYOUT, resetter=resetter, force=True)

    assert resetter.resets == []
    assert resetter.previews == []
