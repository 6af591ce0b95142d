"""One backup run serves ``dump``, the scheduler and ``BACKUP_ON_START``: take, upload,
prune, record, tell. After each committed backup, what is missing off-site goes up, oldest
first; a failed upload keeps the local backup and is reported, never raised."""

from __future__ import annotations

import logging
from collections.abc import Callable

import attrs
import pytest

from pg_backup_manager.domain.backups.backup_run import RunReport
from pg_backup_manager.domain.history import Operation, Outcome
from pg_backup_manager.domain.model import Database
from pg_backup_manager.entrypoints.scheduler import log_run

from .fakes import Fakes, database
from .test_offsite import OLD, with_local_backups

USERS = database("users")
ORDERS = database("orders")
NEW = "file_daily_2024-07-04T09:00:00Z.dump"  # what the fake clock's dump is called


def back_up(fakes: Fakes, *, offsite: bool = True) -> Callable[[list[Database]], RunReport]:
    return fakes.backup_run(offsite=offsite).dump


def scheduled(fakes: Fakes, **kwargs: bool) -> Callable[[], RunReport]:
    return lambda: fakes.backup_run(**kwargs).scheduled((USERS, ORDERS), share=False)


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
        log_run(report)

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

    errors = scheduled(fakes)().failures

    assert sorted(errors) == ["orders", "users"]
    assert errors["users"].startswith(f"{NEW} exists locally but is not off-site yet")


def test_a_scheduled_run_pings_its_start_then_its_end_with_what_failed() -> None:
    fakes = Fakes()
    fakes.dumper.failing.add("orders")

    scheduled(fakes)()

    [start, end] = fakes.pings.pinged
    assert start == ("start", ("users", "orders"))
    assert end[:2] == ("end", ("users", "orders"))
    assert list(end[2]) == ["orders"]  # type: ignore[call-overload]


def test_a_dump_is_told_to_no_dead_mans_switch_and_applies_no_retention() -> None:
    expired = "file_daily_2024-05-01T03:00:00Z.dump"
    fakes = Fakes()
    with_local_backups(fakes, "users", expired)

    report = back_up(fakes)([USERS])

    assert fakes.pings.pinged == []
    assert (report.pruned, report.pruned_offsite) == ((), ())
    assert ("delete", "users", expired) not in fakes.store.actions


def test_every_record_of_a_run_is_written_then_told_through_the_journal() -> None:
    fakes = Fakes()
    fakes.offsite.fail_after = 0
    run = fakes.backup_run()
    journal = fakes.journal()
    run = attrs.evolve(
        run,
        take_backups=attrs.evolve(run.take_backups, run_log=journal),
        offsite=attrs.evolve(
            run.offsite,  # type: ignore[misc]
            sync=attrs.evolve(fakes.sync(), run_log=journal),
        ),
    )

    run.dump([USERS])

    told = [(identifier, r.operation, r.outcome) for identifier, r in fakes.notifier.told]
    assert told == [
        ("users", Operation.DUMP, Outcome.SUCCESS),
        ("users", Operation.SYNC, Outcome.FAILURE),
    ]
    assert [r for _, r in fakes.notifier.told] == fakes.run_log.records("users")


def test_without_off_site_retention_a_scheduled_run_keeps_every_off_site_copy() -> None:
    expired = "file_daily_2024-05-01T03:00:00Z.dump"
    fakes = Fakes()
    with_local_backups(fakes, "users", expired)

    report = scheduled(fakes, retention=False)()

    assert ("upload", "users", expired) in fakes.offsite.actions
    assert ("delete", "users", expired) in fakes.store.actions  # local retention still runs
    assert report.pruned_offsite == ()
    assert not [action for action in fakes.offsite.actions if action[0] == "delete"]
