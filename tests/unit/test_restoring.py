from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pg_backup_manager.domain.errors import (
    BackupNotFoundError,
    BusyError,
    IntegrityError,
    InvalidBackupNameError,
    ToolError,
)
from pg_backup_manager.domain.names import BackupName
from pg_backup_manager.domain.restore.restoring import RestoreReport
from pg_backup_manager.domain.restore.scratch import Purpose, ScratchNames
from pg_backup_manager.domain.restore.swap import plan_swap

from .fakes import Fakes, database

USERS = database("users", dbname="app")
BACKUP = "file_daily_2024-07-04T03:00:00Z.dump"
NAMES = ScratchNames(identifier="users", target="app")
NOW = datetime(2024, 7, 4, 9, 0, tzinfo=UTC)
EARLIER = datetime(2024, 1, 1, tzinfo=UTC)
SCRATCH = NAMES.name(Purpose.RESTORE, NOW)
ASIDE = NAMES.name(Purpose.REPLACED, NOW)


def fakes_with_backup(*databases: str) -> Fakes:
    fakes = Fakes()
    fakes.server.databases = {"postgres", *databases}
    fakes.store.add("users", BACKUP)
    fakes.store.checksums["users", BackupName.parse(BACKUP)] = "a" * 64
    return fakes


def restore(fakes: Fakes, backup: str = BACKUP, *, safety_dump: bool = True) -> RestoreReport:
    return fakes.restore().backup(USERS, backup, safety_dump=safety_dump)


def test_a_restore_loads_a_scratch_database_like_the_target_then_swaps_it_in() -> None:
    fakes = fakes_with_backup("app")

    restore(fakes, safety_dump=False)

    assert fakes.restorer.restored[0][1] == SCRATCH
    assert str(fakes.restorer.restored[0][2]).endswith(f"/users/{BACKUP}")
    assert fakes.server.actions == [
        f"drop {SCRATCH}",
        f"create {SCRATCH} LIKE app",
        f"apply PROPERTIES OF app to {SCRATCH}",
        f"rename app {ASIDE}",
        f"rename {SCRATCH} app",
        f"drop {ASIDE}",
    ]
    assert fakes.server.databases == {"postgres", "app"}


def test_the_scratch_database_is_marked_as_the_controllers_while_it_loads() -> None:
    fakes = fakes_with_backup("app")
    fakes.restorer.failing = True
    seen: list[str | None] = []
    fakes.restorer.on_restore = lambda: seen.append(fakes.server.comments.get(SCRATCH))

    with pytest.raises(ToolError):
        restore(fakes, safety_dump=False)

    assert seen == [NAMES.marker(Purpose.RESTORE)]


def test_a_new_database_gets_what_the_archive_holds_of_it_before_it_takes_its_name() -> None:
    fakes = fakes_with_backup()

    restore(fakes)

    assert fakes.server.actions == [
        f"drop {SCRATCH}",
        f"create {SCRATCH} LIKE {BACKUP}",
        f"apply PROPERTIES IN {BACKUP} to {SCRATCH}",
        f"rename {SCRATCH} app",
    ]
    assert fakes.server.comments == {}


def test_with_no_owner_a_new_database_gets_the_archives_properties_without_owners() -> None:
    fakes = fakes_with_backup()

    fakes.restore().backup(USERS, BACKUP, owners=False)

    assert f"apply PROPERTIES IN {BACKUP} WITHOUT OWNERS to {SCRATCH}" in fakes.server.actions


def test_a_new_database_from_an_archive_without_properties_loses_the_scratch_marker() -> None:
    fakes = fakes_with_backup()
    fakes.restorer.without_properties.add(BACKUP)

    restore(fakes)

    assert fakes.server.actions[-2:] == [f"apply nothing to {SCRATCH}", f"rename {SCRATCH} app"]
    assert fakes.server.comments == {}


def test_the_current_content_is_saved_as_a_backup_before_it_is_replaced() -> None:
    fakes = fakes_with_backup("app")

    outcome = restore(fakes)

    assert outcome.safety_backup is not None
    assert str(outcome.safety_backup.name) in fakes.store.names("users")
    assert fakes.dumper.dumped[0][0] == "users"


def test_a_failed_safety_dump_stops_the_restore_before_anything_changes() -> None:
    fakes = fakes_with_backup("app")
    fakes.dumper.failing.add("users")

    with pytest.raises(ToolError):
        restore(fakes)

    assert fakes.server.actions == []


def test_an_archive_whose_checksum_differs_is_refused_before_anything_changes() -> None:
    fakes = fakes_with_backup("app")
    fakes.checker.hashes[BACKUP] = "b" * 64

    with pytest.raises(IntegrityError, match="corrupt"):
        restore(fakes)

    assert fakes.server.actions == []
    assert fakes.dumper.dumped == []


def test_an_unreadable_archive_without_checksum_is_refused() -> None:
    fakes = fakes_with_backup("app")
    fakes.store.checksums.clear()
    fakes.checker.unreadable.add(BACKUP)

    with pytest.raises(IntegrityError):
        restore(fakes)

    assert fakes.server.actions == []


def test_an_archive_without_checksum_file_is_restored_on_its_archive_check() -> None:
    fakes = fakes_with_backup("app")
    fakes.store.checksums.clear()

    outcome = restore(fakes, safety_dump=False)

    assert not outcome.checksum_verified
    assert fakes.checker.checked


def test_a_failed_load_leaves_the_target_untouched_and_no_scratch_database() -> None:
    fakes = fakes_with_backup("app")
    fakes.restorer.failing = True

    with pytest.raises(ToolError):
        restore(fakes, safety_dump=False)

    assert fakes.server.databases == {"postgres", "app"}
    assert not any(action.startswith("rename") for action in fakes.server.actions)


def test_a_failed_swap_puts_the_old_database_back() -> None:
    fakes = fakes_with_backup("app")
    fakes.server.failing_renames.add((SCRATCH, "app"))

    with pytest.raises(ToolError):
        restore(fakes, safety_dump=False)

    assert fakes.server.databases == {"postgres", "app"}
    assert fakes.server.actions[-2:] == [f"rename {ASIDE} app", f"drop {SCRATCH}"]


def test_properties_that_cannot_be_given_to_the_scratch_database_stop_before_the_swap() -> None:
    fakes = fakes_with_backup("app")
    fakes.server.failing_apply = True

    with pytest.raises(ToolError):
        restore(fakes, safety_dump=False)

    assert fakes.server.databases == {"postgres", "app"}
    assert not any(action.startswith("rename") for action in fakes.server.actions)
    assert fakes.server.actions[-1] == f"drop {SCRATCH}"


def test_a_restore_creates_a_missing_target_without_a_safety_dump() -> None:
    fakes = fakes_with_backup()

    outcome = restore(fakes)

    assert fakes.server.databases == {"postgres", "app"}
    assert outcome.safety_backup is None


def test_a_busy_database_is_not_restored() -> None:
    fakes = fakes_with_backup("app")
    fakes.locks.busy.add("users")

    with pytest.raises(BusyError):
        restore(fakes)

    assert fakes.server.actions == []


@pytest.mark.parametrize("bad", ["../" + BACKUP, "/tmp/" + BACKUP, "file.dump", "x/../y"])
def test_a_backup_name_with_a_path_is_refused_before_anything_happens(bad: str) -> None:
    fakes = fakes_with_backup("app")

    with pytest.raises(InvalidBackupNameError):
        restore(fakes, bad)

    assert fakes.server.actions == []


def test_a_missing_backup_is_reported_before_anything_happens() -> None:
    fakes = fakes_with_backup("app")

    with pytest.raises(BackupNotFoundError):
        restore(fakes, "file_daily_2020-01-01T00:00:00Z.dump")

    assert fakes.server.actions == []


def test_restore_from_shared_uses_the_shared_archive_and_can_skip_owners() -> None:
    fakes = fakes_with_backup("app")
    fakes.store.shared_copies.share("users", BackupName.parse(BACKUP))

    [result] = fakes.restore().shared_copies([USERS], owners=False)

    assert result.report is not None

    assert str(fakes.restorer.restored[0][2]) == "/backup/shared/users/file.dump"
    assert fakes.restorer.restored[0][3] is False


def test_without_a_shared_archive_restore_from_shared_reports_it() -> None:
    fakes = Fakes()

    [result] = fakes.restore().shared_copies([USERS])

    assert isinstance(result.error, BackupNotFoundError)


def test_scratch_databases_left_by_a_killed_run_are_dropped_before_a_restore() -> None:
    fakes = fakes_with_backup(
        "app",
        NAMES.name(Purpose.RESTORE, EARLIER),
        NAMES.name(Purpose.VERIFY, EARLIER),
        "app_restore_notes",
    )

    outcome = restore(fakes, safety_dump=False)

    assert fakes.server.databases == {"postgres", "app", "app_restore_notes"}
    assert len(outcome.leftovers.drop) == 2


def test_another_services_scratch_database_on_the_same_server_is_never_touched() -> None:
    other = ScratchNames(identifier="orders", target="app").name(Purpose.RESTORE, EARLIER)
    fakes = fakes_with_backup("app", other)

    restore(fakes, safety_dump=False)

    assert other in fakes.server.databases
    assert f"drop {other}" not in fakes.server.actions


def test_a_target_lost_between_the_renames_is_put_back_before_anything_else() -> None:
    older, newer = NAMES.name(Purpose.REPLACED, EARLIER), NAMES.name(Purpose.REPLACED, NOW)
    fakes = fakes_with_backup(older, newer.replace("20240704", "20240102"))

    outcome = restore(fakes, safety_dump=False)

    put_back = newer.replace("20240704", "20240102")
    assert fakes.server.actions[0] == f"rename {put_back} app"
    assert older in fakes.server.databases
    assert outcome.leftovers.put_back == put_back
    assert outcome.leftovers.keep == (older,)


def test_content_put_back_from_an_interrupted_restore_is_saved_before_it_is_replaced() -> None:
    aside = NAMES.name(Purpose.REPLACED, EARLIER)
    fakes = fakes_with_backup(aside)

    outcome = restore(fakes)

    assert outcome.leftovers.put_back == aside
    assert outcome.safety_backup is not None
    assert fakes.dumper.dumped[0][0] == "users"


def test_restore_from_shared_goes_on_past_a_database_that_fails() -> None:
    fakes = fakes_with_backup("app")
    fakes.store.shared_copies.share("users", BackupName.parse(BACKUP))
    orders = database("orders", dbname="shop")

    results = fakes.restore().shared_copies([orders, USERS])

    assert isinstance(results[0].error, BackupNotFoundError)
    assert results[1].report is not None


def test_the_swap_plan_sets_the_target_aside_only_when_there_is_one() -> None:
    existing = plan_swap(USERS, target_exists=True, now=NOW)
    new = plan_swap(USERS, target_exists=False, now=NOW)

    assert (existing.scratch, existing.aside) == (SCRATCH, ASIDE)
    assert new.aside is None
    assert new.scratch == SCRATCH


def with_globals(fakes: Fakes, checksum: str = "a" * 64) -> Fakes:
    fakes.store.globals_checksums["users", BackupName.parse(BACKUP)] = checksum
    return fakes


def test_with_globals_the_missing_roles_are_created_before_the_load() -> None:
    fakes = with_globals(fakes_with_backup("app"))

    report = fakes.restore().backup(USERS, BACKUP, safety_dump=False, with_globals=True)

    assert report.roles is not None
    assert report.roles.created == ("app_owner",)
    assert report.roles.existing == ("postgres",)
    assert fakes.server.actions[0] == "create roles: CREATE ROLE app_owner;"
    assert fakes.server.actions[1:3] == [f"drop {SCRATCH}", f"create {SCRATCH} LIKE app"]
    assert str(fakes.globals_reader.read_paths[0]).endswith(
        "/users/file_daily_2024-07-04T03:00:00Z.globals.sql"
    )


def test_with_globals_and_every_role_present_nothing_is_created() -> None:
    fakes = with_globals(fakes_with_backup("app"))
    fakes.server.roles = {"postgres", "app_owner"}

    report = fakes.restore().backup(USERS, BACKUP, safety_dump=False, with_globals=True)

    assert report.roles is not None and report.roles.changes_nothing
    assert not any(action.startswith("create roles") for action in fakes.server.actions)


def test_globals_that_fail_their_checksum_stop_the_restore_before_anything_changes() -> None:
    fakes = with_globals(fakes_with_backup("app"), checksum="b" * 64)

    with pytest.raises(IntegrityError, match="corrupt"):
        fakes.restore().backup(USERS, BACKUP, with_globals=True)

    assert fakes.server.actions == []
    assert fakes.store.names("users") == [BACKUP]


def test_a_backup_without_globals_cannot_be_restored_with_globals() -> None:
    fakes = fakes_with_backup("app")

    with pytest.raises(BackupNotFoundError, match="no globals"):
        fakes.restore().backup(USERS, BACKUP, with_globals=True)

    assert fakes.server.actions == []


def test_roles_that_cannot_be_created_leave_the_database_as_it_was() -> None:
    fakes = with_globals(fakes_with_backup("app"))
    fakes.server.failing_roles = True

    with pytest.raises(ToolError, match="create role"):
        fakes.restore().backup(USERS, BACKUP, safety_dump=False, with_globals=True)

    assert fakes.server.actions == []
    assert fakes.restorer.restored == []


def test_restore_from_shared_with_globals_uses_the_shared_globals() -> None:
    fakes = with_globals(fakes_with_backup("app"))
    fakes.store.shared["users"] = BackupName.parse(BACKUP)

    [result] = fakes.restore().shared_copies([USERS], safety_dump=False, with_globals=True)

    assert result.report is not None and result.report.roles is not None
    assert result.report.roles.created == ("app_owner",)
    assert str(fakes.globals_reader.read_paths[0]).endswith("/users/file.globals.sql")


def test_a_failed_load_after_roles_were_created_names_the_roles_that_stay() -> None:
    fakes = with_globals(fakes_with_backup("app"))
    fakes.restorer.failing = True

    with pytest.raises(ToolError, match=r"roles created from the globals stay: app_owner\)"):
        fakes.restore().backup(USERS, BACKUP, safety_dump=False, with_globals=True)

    assert fakes.server.actions[0].startswith("create roles")
    assert fakes.server.databases == {"postgres", "app"}
