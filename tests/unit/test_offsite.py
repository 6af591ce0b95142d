"""sync: every local backup missing off-site is uploaded, oldest first, under the lock;
a failed upload leaves the local backups as they were and says what is not off-site."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import PurePath
from typing import Any

import attrs
import pytest

from pg_backup_manager.domain.errors import BusyError, IntegrityError
from pg_backup_manager.domain.history import Operation, Outcome
from pg_backup_manager.domain.names import Backup, BackupName, StoredArchive
from pg_backup_manager.domain.offsite.sync import plan_sync
from pg_backup_manager.domain.offsite_copies import OffsiteCopy
from pg_backup_manager.domain.restore.checks import verify_checksum

from .fakes import GOOD_SHA256, Companion, FakeArchiveChecker, Fakes, database

GLOBALS_SHA256 = "c" * 64

OLD = "file_monthly_2024-06-01T03:00:00Z.dump"
MIDDLE = "file_weekly_2024-06-29T03:00:00Z.dump"
NEW = "file_daily_2024-07-03T03:00:00Z.dump"


def with_local_backups(fakes: Fakes, identifier: str, *names: str) -> None:
    fakes.store.add(identifier, *names)
    for name in names:
        fakes.store.checksums[identifier, BackupName.parse(name)] = GOOD_SHA256
        fakes.store.globals_checksums[identifier, BackupName.parse(name)] = GOOD_SHA256


def backup(name: str) -> Backup:
    return Backup(name=BackupName.parse(name), size=10)


def copy(name: str, *, has_globals: bool = False, problem: str | None = None) -> OffsiteCopy:
    return OffsiteCopy(
        name=BackupName.parse(name), size=10, has_globals=has_globals, problem=problem
    )


def test_the_plan_splits_listed_and_missing_backups_oldest_first() -> None:
    local = [backup(NEW), backup(OLD), backup(MIDDLE)]

    plan = plan_sync(local, [copy(MIDDLE), copy(OLD)])

    assert [str(b.name) for b in plan.missing] == [NEW]
    assert [str(b.name) for b in plan.listed] == [OLD, MIDDLE]
    assert plan.incomplete == ()


def test_a_copy_that_is_unusable_or_lacks_the_local_globals_is_incomplete() -> None:
    with_globals = attrs.evolve(backup(MIDDLE), has_globals=True)
    local = [backup(NEW), backup(OLD), with_globals]

    plan = plan_sync(local, [copy(NEW, problem="no checksum"), copy(OLD), copy(MIDDLE)])

    assert [str(b.name) for b in plan.incomplete] == [MIDDLE, NEW]
    assert [str(b.name) for b in plan.listed] == [OLD]
    assert plan.missing == ()


def test_sync_uploads_every_missing_backup_oldest_first_with_its_globals() -> None:
    fakes = Fakes()
    with_local_backups(fakes, "users", NEW, OLD, MIDDLE)

    report = fakes.sync()([database("users")])

    assert fakes.offsite.actions == [
        ("upload", "users", OLD),
        ("upload", "users", MIDDLE),
        ("upload", "users", NEW),
    ]
    assert all(copy.has_globals for copy in fakes.offsite.copies("users"))
    assert report.exit_code == 0
    assert fakes.locks.held == ["users"]


def test_a_second_sync_uploads_nothing_and_counts_what_is_off_site() -> None:
    fakes = Fakes()
    with_local_backups(fakes, "users", NEW, OLD)
    fakes.sync()([database("users")])

    [result] = fakes.sync()([database("users")]).results

    assert (result.uploaded, result.already_offsite, result.error) == ((), 2, None)
    assert len(fakes.offsite.actions) == 2


def test_only_the_backups_missing_off_site_are_uploaded() -> None:
    fakes = Fakes()
    with_local_backups(fakes, "users", NEW, OLD)
    fakes.sync()([database("users")])
    with_local_backups(fakes, "users", MIDDLE)

    [result] = fakes.sync()([database("users")]).results

    assert [str(copy.name) for copy in result.uploaded] == [MIDDLE]
    assert result.already_offsite == 2


def test_a_failed_upload_keeps_every_local_backup_and_names_what_is_not_off_site() -> None:
    fakes = Fakes()
    with_local_backups(fakes, "users", NEW, OLD, MIDDLE)
    fakes.offsite.fail_after = 1

    report = fakes.sync()([database("users")])

    [result] = report.results
    assert [str(copy.name) for copy in result.uploaded] == [OLD]
    assert [str(name) for name in result.missing] == [MIDDLE, NEW]
    assert result.error is not None and "connection reset" in str(result.error)
    assert report.exit_code == 1
    assert fakes.store.names("users") == [NEW, MIDDLE, OLD]
    assert not [action for action in fakes.store.actions if action[0] == "delete"]


def test_the_next_sync_after_a_failure_uploads_the_rest() -> None:
    fakes = Fakes()
    with_local_backups(fakes, "users", NEW, OLD, MIDDLE)
    fakes.offsite.fail_after = 1
    fakes.sync()([database("users")])
    fakes.offsite.fail_after = None

    [result] = fakes.sync()([database("users")]).results

    assert [str(copy.name) for copy in result.uploaded] == [MIDDLE, NEW]
    assert result.error is None


def test_a_failure_is_recorded_in_the_history_and_the_other_databases_go_on() -> None:
    fakes = Fakes()
    with_local_backups(fakes, "users", OLD)
    with_local_backups(fakes, "orders", NEW)
    fakes.locks.busy.add("users")

    report = fakes.sync()([database("users"), database("orders")])

    users, orders = report.results
    assert isinstance(users.error, BusyError)
    assert orders.error is None and [str(c.name) for c in orders.uploaded] == [NEW]
    assert report.exit_code == BusyError.exit_code
    [record] = fakes.run_log.records("users")
    assert (record.operation, record.outcome) == (Operation.SYNC, Outcome.FAILURE)
    [record] = fakes.run_log.records("orders")
    assert (record.operation, record.outcome) == (Operation.SYNC, Outcome.SUCCESS)


def test_an_unreachable_store_uploads_nothing_and_says_so() -> None:
    fakes = Fakes()
    with_local_backups(fakes, "users", OLD)
    fakes.offsite.unreachable = True

    [result] = fakes.sync()([database("users")]).results

    assert result.error is not None and "unreachable" in str(result.error)
    assert fakes.offsite.actions == []
    assert fakes.store.names("users") == [OLD]


def test_a_backup_without_a_checksum_is_not_uploaded_unproven() -> None:
    fakes = Fakes()
    fakes.store.add("users", OLD)

    [result] = fakes.sync()([database("users")]).results

    assert result.error is not None and "no checksum" in str(result.error)
    assert [str(name) for name in result.missing] == [OLD]
    assert fakes.offsite.actions == []


def test_each_upload_happens_under_the_database_lock() -> None:
    fakes = Fakes()
    with_local_backups(fakes, "users", OLD, NEW)
    fakes.offsite.locks = fakes.locks

    fakes.sync()([database("users")])

    assert fakes.offsite.locked_uploads == [True, True]


def test_a_listed_key_with_other_content_is_not_counted_off_site() -> None:
    fakes = Fakes()
    with_local_backups(fakes, "users", OLD, NEW)
    foreign = OffsiteCopy(name=BackupName.parse(OLD), size=5, sha256="f" * 64)
    fakes.offsite.copied["users"] = {foreign.name: foreign}

    [result] = fakes.sync()([database("users")]).results

    assert result.error is not None and "other content" in str(result.error)
    assert result.already_offsite == 0
    assert [str(name) for name in result.missing] == [OLD, NEW]
    assert fakes.offsite.copied["users"] == {foreign.name: foreign}


def test_a_copy_that_lost_its_checksum_and_globals_is_completed_not_counted() -> None:
    fakes = Fakes()
    with_local_backups(fakes, "users", NEW, OLD)
    fakes.sync()([database("users")])
    fakes.offsite.lose(
        "users",
        BackupName.parse(OLD),
        Companion.CHECKSUM,
        Companion.GLOBALS,
        Companion.GLOBALS_CHECKSUM,
    )

    [result] = fakes.sync()([database("users")]).results

    assert result.already_offsite == 1
    assert [str(c.name) for c in result.completed] == [OLD]
    assert (result.uploaded, result.error) == ((), None)
    assert fakes.offsite.actions[2:] == [("complete", "users", OLD)]  # never sent again
    assert all(c.usable and c.has_globals for c in fakes.offsite.copies("users"))


def test_a_copy_that_lost_only_its_globals_is_completed_when_the_local_backup_has_them() -> None:
    fakes = Fakes()
    with_local_backups(fakes, "users", OLD)
    fakes.sync()([database("users")])
    fakes.offsite.lose("users", BackupName.parse(OLD), Companion.GLOBALS)

    [result] = fakes.sync()([database("users")]).results

    assert [str(c.name) for c in result.completed] == [OLD]
    assert result.already_offsite == 0
    [listed] = fakes.offsite.copies("users")
    assert listed.has_globals


def test_a_copy_whose_checksum_object_was_replaced_is_not_off_site_and_never_overwritten() -> None:
    fakes = Fakes()
    with_local_backups(fakes, "users", OLD, NEW)
    fakes.sync()([database("users")])
    fakes.offsite.lose("users", BackupName.parse(OLD), Companion.WRONG_CHECKSUM)

    [result] = fakes.sync()([database("users")]).results

    assert result.error is not None and "other content" in str(result.error)
    assert [str(name) for name in result.missing] == [OLD]
    assert fakes.offsite.actions[2:] == []
    [new, old] = fakes.offsite.copies("users")
    assert (new.usable, old.usable) == (True, False)


def test_a_copy_is_judged_by_what_a_restore_needs_the_first_missing_piece_named() -> None:
    name = BackupName.parse(OLD)
    line = f"{GOOD_SHA256}  {OLD}\n"

    def judged(
        *,
        sha256: str | None = GOOD_SHA256,
        checksum_line: str | None = line,
        globals_found: bool = True,
        globals_sha256: str | None = GLOBALS_SHA256,
        globals_line: str | None = f"{GLOBALS_SHA256}  {name.globals_name}\n",
    ) -> str | None:
        return OffsiteCopy.judged(
            name=name,
            size=12,
            sha256=sha256,
            checksum_line=checksum_line,
            globals_found=globals_found,
            globals_sha256=globals_sha256,
            globals_line=globals_line,
        ).problem

    assert judged() is None
    assert judged(globals_found=False, globals_sha256=None, globals_line=None) is None
    assert judged(checksum_line=f"{GOOD_SHA256.upper()} *{OLD}") is None  # as sha256sum -b
    assert judged(checksum_line=None, sha256=None) == f"no checksum object ({OLD}.sha256)"
    assert judged(sha256=None) == "no SHA-256 recorded with the archive"
    assert judged(checksum_line="") == (
        f"its checksum object ({OLD}.sha256) is not a sha256sum line for {OLD}"
    )
    assert judged(checksum_line=f"{'b' * 64}  {OLD}") == (
        f"its checksum object ({OLD}.sha256) says bbbbbbbbbbbbbbbb..., "
        "the SHA-256 recorded with the archive is aaaaaaaaaaaaaaaa..."
    )
    assert judged(globals_line=None) == (
        f"no checksum object for its globals ({name.globals_name}.sha256)"
    )


def test_a_checksum_line_that_names_another_file_makes_a_copy_unusable() -> None:
    name = BackupName.parse(OLD)

    copy = OffsiteCopy.judged(
        name=name,
        size=12,
        sha256=GOOD_SHA256,
        checksum_line=f"{GOOD_SHA256}  other_file.dump\n",
        globals_found=False,
    )

    assert copy.problem == f"its checksum object ({OLD}.sha256) is not a sha256sum line for {OLD}"


@pytest.mark.parametrize("companion", ["globals", "note"])
def test_globals_and_notes_are_judged_like_the_archive_and_a_lone_checksum_is_unusable(
    companion: str,
) -> None:
    name = BackupName.parse(OLD)
    file_name = name.globals_name if companion == "globals" else name.note_name
    sidecar = f"{file_name}.sha256"

    def judged(
        *,
        found: bool = True,
        sha256: str | None = GLOBALS_SHA256,
        line: str | None = f"{GLOBALS_SHA256}  {file_name}\n",
    ) -> str | None:
        said: dict[str, Any] = {"globals_found": False}
        said |= {f"{companion}_found": found, f"{companion}_sha256": sha256}
        said[f"{companion}_line"] = line
        return OffsiteCopy.judged(
            name=name,
            size=12,
            sha256=GOOD_SHA256,
            checksum_line=f"{GOOD_SHA256}  {OLD}\n",
            **said,
        ).problem

    assert judged() is None
    assert judged(found=False, sha256=None, line=None) is None
    assert judged(line=f"{'e' * 64}  {file_name}\n") == (
        f"its checksum object ({sidecar}) says eeeeeeeeeeeeeeee..., "
        f"the SHA-256 recorded with its {companion} is cccccccccccccccc..."
    )
    assert judged(sha256=None) == f"no SHA-256 recorded with its {companion}"
    assert judged(line=f"{GLOBALS_SHA256}  {OLD}\n") == (
        f"its checksum object ({sidecar}) is not a sha256sum line for {file_name}"
    )
    assert judged(line=None) == f"no checksum object for its {companion} ({sidecar})"
    whose = "its globals'" if companion == "globals" else "its note's"
    assert judged(found=False, sha256=None) == (
        f"{whose} checksum object ({sidecar}) is there but not its {companion} ({file_name})"
    )


def test_a_copy_whose_globals_were_replaced_is_not_off_site_and_never_overwritten() -> None:
    for replaced in (Companion.WRONG_GLOBALS_CHECKSUM, Companion.OTHER_GLOBALS):
        fakes = Fakes()
        with_local_backups(fakes, "users", OLD, NEW)
        fakes.sync()([database("users")])
        fakes.offsite.lose("users", BackupName.parse(OLD), replaced)

        [result] = fakes.sync()([database("users")]).results

        assert result.error is not None and "other content" in str(result.error), replaced
        assert [str(name) for name in result.missing] == [OLD]
        assert fakes.offsite.actions[2:] == []
        [new, old] = fakes.offsite.copies("users")
        assert (new.usable, old.usable) == (True, False)


def test_a_copy_whose_checksum_line_names_another_file_is_not_off_site_nor_overwritten() -> None:
    fakes = Fakes()
    with_local_backups(fakes, "users", OLD)
    fakes.sync()([database("users")])
    fakes.offsite.lose("users", BackupName.parse(OLD), Companion.MISNAMED_CHECKSUM)

    [result] = fakes.sync()([database("users")]).results

    assert result.error is not None and "other content" in str(result.error)
    assert (result.already_offsite, [str(name) for name in result.missing]) == (0, [OLD])
    [old] = fakes.offsite.copies("users")
    assert not old.usable


def test_a_copy_without_globals_beside_their_checksum_is_unusable_until_completed() -> None:
    fakes = Fakes()
    with_local_backups(fakes, "users", OLD)
    fakes.sync()([database("users")])
    fakes.offsite.lose("users", BackupName.parse(OLD), Companion.GLOBALS)
    [lost] = fakes.offsite.copies("users")

    [result] = fakes.sync()([database("users")]).results

    assert (lost.usable, lost.has_globals) == (False, False)
    assert [str(c.name) for c in result.completed] == [OLD]
    [completed] = fakes.offsite.copies("users")
    assert (completed.usable, completed.has_globals) == (True, True)


@pytest.mark.parametrize(
    ("record_of", "said"),
    [
        (lambda name: "x-amz-meta-sha256", "(x-amz-meta-sha256)"),
        (lambda name: f".{name}.meta", f"(.{OLD}.meta)"),
    ],
)
def test_a_copy_without_its_sha256_names_where_its_backend_records_it(
    record_of: Callable[[str], str], said: str
) -> None:
    copy = OffsiteCopy.judged(
        name=BackupName.parse(OLD),
        size=12,
        sha256=None,
        checksum_line=f"{GOOD_SHA256}  {OLD}\n",
        globals_found=False,
        record_of=record_of,
    )

    assert copy.problem == f"no SHA-256 recorded with the archive {said}"


def test_a_corrupt_download_is_named_as_the_off_site_copy_and_the_command_listing_them() -> None:
    downloaded = StoredArchive(
        path=PurePath(f"/backups/users/.{OLD}.7.partial/{OLD}"),
        checksum="e" * 64,
        origin=f"the off-site copy s3://bucket/prod/users/{OLD}",
        listed_by="controller list users --remote",
    )

    with pytest.raises(IntegrityError) as raised:
        verify_checksum(downloaded, checker=FakeArchiveChecker())

    assert str(raised.value) == (
        f"the off-site copy s3://bucket/prod/users/{OLD} is corrupt: its SHA-256 is "
        f"{GOOD_SHA256[:12]}..., its checksum object says eeeeeeeeeeee...: do not trust it; "
        "pick another backup ('controller list users --remote')"
    )
