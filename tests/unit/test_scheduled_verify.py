"""VERIFY_SCHEDULE's use case: the newest backup of a database (and with VERIFY_REMOTE its
newest off-site copy) verified as ``verify --restore`` does, recorded once as an operation
of its own and told as every record is."""

from __future__ import annotations

from datetime import timedelta

from pg_backup_manager.adapters.cron import CronSchedule
from pg_backup_manager.domain.history import Operation, Outcome
from pg_backup_manager.domain.names import BackupName
from pg_backup_manager.domain.offsite_copies import OffsiteCopy
from pg_backup_manager.domain.verification.model import (
    PASSED_AGAIN,
    Found,
    Verification,
)
from pg_backup_manager.domain.verification.verifying import ScheduledVerify

from .fakes import GOOD_SHA256, Fakes, database
from .test_verifying import fakes_with

USERS = database("users", dbname="app")
OLD = "file_daily_2024-07-03T03:00:00Z.dump"
NEW = "file_daily_2024-07-04T03:00:00Z.dump"
FUTURE = "file_daily_2024-07-09T03:00:00Z.dump"  # five days after the fake clock
HOURLY = CronSchedule.parse("0 * * * *", "UTC")


def copied_off_site(fakes: Fakes, *names: str) -> None:
    for name in names:
        parsed = BackupName.parse(name)
        fakes.offsite.copied.setdefault("users", {})[parsed] = OffsiteCopy(
            name=parsed, size=100, sha256=GOOD_SHA256
        )


def verified(fakes: Fakes, *, remote: bool = False) -> tuple[Verification, ...]:
    return fakes.scheduled_verify(HOURLY, remote=remote)(USERS)


def test_the_newest_backup_is_restored_counted_and_recorded_once_as_verify_scheduled() -> None:
    fakes = fakes_with(OLD, NEW)

    [found] = verified(fakes)

    assert (found.found, str(found.backup), found.tables) == (Found.PASSED, NEW, 1)
    assert [p.name for p in fakes.checker.checked] == [NEW]
    assert len(fakes.restorer.restored) == 1
    assert [a for a in fakes.server.actions if a.startswith("create")] == [
        f"create {fakes.restorer.restored[0][1]}"
    ]
    [record] = fakes.run_log.records("users")
    assert (record.operation, record.outcome, record.backup) == (
        Operation.VERIFY_SCHEDULED,
        Outcome.SUCCESS,
        NEW,
    )
    assert fakes.notifier.told == [("users", record)]  # NOTIFY_ON decides; not resolving
    assert fakes.notifier.resolving == []


def test_a_damaged_newest_backup_fails_is_recorded_and_notified_like_a_failed_backup() -> None:
    fakes = fakes_with(OLD, NEW)
    fakes.checker.hashes[NEW] = "b" * 64

    [found] = verified(fakes)

    assert found.found is Found.FAILED and str(found.backup) == NEW
    assert "corrupt" in (found.problem or "")
    [record] = fakes.run_log.records("users")
    assert (record.operation, record.outcome, record.backup) == (
        Operation.VERIFY_SCHEDULED,
        Outcome.FAILURE,
        NEW,
    )
    assert "corrupt" in (record.error or "")
    assert fakes.notifier.told == [("users", record)]


def test_one_that_passes_after_a_failure_is_noted_and_told_as_resolving_it() -> None:
    fakes = fakes_with(OLD, NEW)
    fakes.checker.hashes[NEW] = "b" * 64
    verified(fakes)
    fakes.checker.hashes.pop(NEW)
    fakes.clock.sleep(3600)

    [found] = verified(fakes)
    verified(fakes)

    assert found.found is Found.PASSED
    failure, passed, again = fakes.run_log.records("users")
    assert failure.outcome is Outcome.FAILURE
    assert (passed.outcome, passed.note) == (Outcome.SUCCESS, PASSED_AGAIN)
    assert again.note is None  # only the first pass after a failure resolves it
    assert fakes.notifier.resolving == [("users", passed)]


def test_a_database_without_a_backup_yet_is_skipped_and_recorded_nowhere() -> None:
    fakes = Fakes()

    [found] = verified(fakes)

    assert (found.found, found.backup) == (Found.SKIPPED, None)
    assert found.problem == "no backup to verify yet"
    assert fakes.run_log.records("users") == []
    assert fakes.notifier.told == []
    assert fakes.restorer.restored == []


def test_a_backup_dated_in_the_future_is_never_the_one_verified() -> None:
    fakes = fakes_with(NEW, FUTURE)

    [found] = verified(fakes)

    assert str(found.backup) == NEW
    assert [p.name for p in fakes.checker.checked] == [NEW]


def test_a_busy_database_fails_its_verification_with_the_busy_error() -> None:
    fakes = fakes_with(NEW)
    fakes.locks.busy.add("users")

    [found] = verified(fakes)

    assert found.found is Found.FAILED and "busy" in (found.problem or "")
    [record] = fakes.run_log.records("users")
    assert record.outcome is Outcome.FAILURE and record.backup == NEW
    assert "busy" in (record.error or "")


def test_a_server_that_refuses_the_scratch_database_fails_it_and_nothing_else_is_recorded() -> None:
    fakes = fakes_with(NEW)
    fakes.server.failing_creates = True

    [found] = verified(fakes)

    assert found.found is Found.FAILED
    [record] = fakes.run_log.records("users")
    assert record.operation is Operation.VERIFY_SCHEDULED and record.outcome is Outcome.FAILURE


def test_with_verify_remote_the_newest_usable_off_site_copy_is_verified_too() -> None:
    fakes = fakes_with(OLD, NEW)
    copied_off_site(fakes, OLD, NEW)
    fakes.offsite.plant("users", BackupName.parse(FUTURE), size=12)  # unusable, and future

    local, remote = verified(fakes, remote=True)

    assert (local.offsite, str(local.backup), local.found) == (False, NEW, Found.PASSED)
    assert (remote.offsite, str(remote.backup), remote.found) == (True, NEW, Found.PASSED)
    assert ("fetch", "users", NEW) in fakes.downloads.actions
    assert ("remove", "users", NEW) in fakes.downloads.actions
    records = fakes.run_log.records("users")
    assert [(r.operation, r.outcome, r.backup) for r in records] == [
        (Operation.VERIFY_SCHEDULED, Outcome.SUCCESS, NEW),
        (Operation.VERIFY_SCHEDULED_REMOTE, Outcome.SUCCESS, NEW),
    ]


def test_a_store_that_cannot_be_listed_fails_the_off_site_verification_alone() -> None:
    fakes = fakes_with(NEW)
    fakes.offsite.unreachable = True

    local, remote = verified(fakes, remote=True)

    assert local.found is Found.PASSED
    assert (remote.found, remote.backup) == (Found.FAILED, None)
    assert remote.problem == "off-site store unreachable"
    _, record = fakes.run_log.records("users")
    assert (record.operation, record.outcome, record.backup, record.error) == (
        Operation.VERIFY_SCHEDULED_REMOTE,
        Outcome.FAILURE,
        None,
        "off-site store unreachable",
    )


def test_no_usable_off_site_copy_yet_skips_the_off_site_verification() -> None:
    fakes = fakes_with(NEW)
    fakes.offsite.plant("users", BackupName.parse(NEW), size=12)  # no checksum: unusable

    local, remote = verified(fakes, remote=True)

    assert local.found is Found.PASSED
    assert (remote.found, remote.problem) == (
        Found.SKIPPED,
        "no usable off-site copy to verify yet",
    )
    assert [r.operation for r in fakes.run_log.records("users")] == [Operation.VERIFY_SCHEDULED]


def test_without_verify_remote_the_off_site_store_is_never_built() -> None:
    fakes = fakes_with(NEW)
    built: list[object] = []

    def from_offsite() -> object:
        built.append(True)
        return fakes.from_offsite()

    use_case = fakes.scheduled_verify(HOURLY)
    found = ScheduledVerify(
        catalog=use_case.catalog,
        verify=use_case.verify,
        from_offsite=from_offsite,  # type: ignore[arg-type]
        history=use_case.history,
        run_log=use_case.run_log,
        clock=use_case.clock,
        asked=None,
    )(USERS)

    assert [f.offsite for f in found] == [False]
    assert built == []


def test_each_verification_takes_the_newest_backup_at_its_time() -> None:
    fakes = fakes_with(OLD)
    verified(fakes)
    fakes.store.add("users", NEW)
    fakes.store.checksums["users", BackupName.parse(NEW)] = GOOD_SHA256
    fakes.clock.sleep(timedelta(hours=1).total_seconds())

    [found] = verified(fakes)

    assert str(found.backup) == NEW
    assert [r.backup for r in fakes.run_log.records("users")] == [OLD, NEW]
