"""After each committed backup (dump and scheduled runs), what is missing off-site goes
up, oldest first; a failed upload keeps the local backup and is reported, never raised."""

from __future__ import annotations

import logging

import pytest

from pg_backup_manager.domain.backups.backing_up import BackUp
from pg_backup_manager.domain.backups.scheduled_run import ScheduledRun
from pg_backup_manager.domain.history import Operation, Outcome
from pg_backup_manager.entrypoints.render import log_run, run_errors

from .fakes import Fakes, database
from .test_offsite import OLD, with_local_backups

USERS = database("users")
ORDERS = database("orders")
NEW = "file_daily_2024-07-04T09:00:00Z.dump"  # what the fake clock's dump is called


def back_up(fakes: Fakes, *, offsite: bool = True) -> BackUp:
    return BackUp(take_backups=fakes.take_backups(), sync=fakes.sync() if offsite else None)


def scheduled(fakes: Fakes) -> ScheduledRun:
    return ScheduledRun(
        take_backups=fakes.take_backups(),
        prune=fakes.prune(),
        databases=(USERS, ORDERS),
        copy_to_shared=False,
        sync=fakes.sync(),
    )


def test_a_dump_uploads_its_backup_after_the_older_ones_missing_off_site() -> None:
    fakes = Fakes()
    with_local_backups(fakes, "users", OLD)

    report = back_up(fakes)([USERS])

    assert fakes.offsite.actions == [("upload", "users", OLD), ("upload", "users", NEW)]
    assert report.exit_code == 0
    [upload] = report.offsite
    assert (str(upload.backup), upload.succeeded) == (NEW, True)


def test_without_an_off_site_store_a_dump_uploads_nothing() -> None:
    fakes = Fakes()

    report = back_up(fakes, offsite=False)([USERS])

    assert report.offsite == ()
    assert fakes.offsite.actions == []
    assert report.exit_code == 0


def test_a_failed_upload_keeps_the_new_backup_records_it_and_exits_1() -> None:
    fakes = Fakes()
    fakes.offsite.fail_after = 0

    report = back_up(fakes)([USERS])

    assert fakes.store.names("users") == [NEW]
    [upload] = report.offsite
    assert not upload.succeeded
    assert [str(name) for name in upload.sync.missing] == [NEW]
    assert report.exit_code == 1
    assert [(r.operation, r.outcome) for r in fakes.run_log.records("users")] == [
        (Operation.DUMP, Outcome.SUCCESS),
        (Operation.SYNC, Outcome.FAILURE),
    ]


def test_a_failed_dump_keeps_its_own_exit_code_and_uploads_nothing() -> None:
    fakes = Fakes()
    fakes.dumper.failing.add("users")

    report = back_up(fakes)([USERS])

    assert report.offsite == ()
    assert fakes.offsite.actions == []
    assert report.exit_code == 1


def test_the_next_dump_after_a_failed_upload_uploads_both_oldest_first() -> None:
    fakes = Fakes()
    fakes.offsite.fail_after = 0
    back_up(fakes)([USERS])
    fakes.offsite.fail_after = None
    fakes.clock.current = fakes.clock.current.replace(hour=15)

    report = back_up(fakes)([USERS])

    assert fakes.offsite.actions == [
        ("upload", "users", NEW),
        ("upload", "users", "file_daily_2024-07-04T15:00:00Z.dump"),
    ]
    assert report.exit_code == 0


def test_a_scheduled_run_uploads_before_retention_so_an_expiring_backup_goes_off_site() -> None:
    expired = "file_daily_2024-05-01T03:00:00Z.dump"
    fakes = Fakes()
    with_local_backups(fakes, "users", expired)

    report = scheduled(fakes)()

    assert fakes.offsite.actions[:2] == [("upload", "users", expired), ("upload", "users", NEW)]
    assert ("delete", "users", expired) in fakes.store.actions
    assert [upload.succeeded for upload in report.offsite] == [True, True]


def test_a_scheduled_run_whose_upload_fails_still_applies_retention_and_logs_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fakes = Fakes()
    fakes.offsite.fail_after = 0

    with caplog.at_level(logging.INFO):
        report = scheduled(fakes)()
        log_run(report, logging.getLogger("test"))

    assert [p.database.identifier for p in report.pruned] == ["users", "orders"]
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert errors == [
        f"{identifier}: {NEW} exists locally but is not off-site yet (1 backup(s) not "
        "off-site, kept locally; the next run uploads them): upload of "
        f"{NEW} failed: connection reset"
        for identifier in ("users", "orders")
    ]


def test_a_scheduled_run_whose_upload_fails_is_a_failure_for_the_dead_mans_switch() -> None:
    fakes = Fakes()
    fakes.dumper.failing.add("orders")
    fakes.offsite.fail_after = 0

    errors = run_errors(scheduled(fakes)())

    assert sorted(errors) == ["orders", "users"]
    assert errors["users"].startswith(f"{NEW} exists locally but is not off-site yet")
