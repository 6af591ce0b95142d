"""What is not off-site, read from the run history alone: status, its JSON, the metrics and
the notification of a failed upload say ``off-site: missing``."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import attrs
import pytest
from prometheus_client import generate_latest
from prometheus_client.registry import CollectorRegistry

from pg_backup_manager.adapters.cron import DEFAULT_SCHEDULE, CronSchedule
from pg_backup_manager.adapters.monitoring.metrics import BackupCollector
from pg_backup_manager.adapters.monitoring.notifications import message
from pg_backup_manager.adapters.monitoring.run_history import HISTORY_NAME, JsonlRunLog
from pg_backup_manager.domain.backups.offsite_steps import CopyOffsite
from pg_backup_manager.domain.backups.timetable import Schedules
from pg_backup_manager.domain.history import Operation, Outcome, RunRecord
from pg_backup_manager.domain.model import Layout
from pg_backup_manager.domain.monitoring.freshness import DatabaseStatus, MaxAges
from pg_backup_manager.domain.monitoring.status import Status
from pg_backup_manager.domain.monitoring.telling import Journal, Tell
from pg_backup_manager.domain.names import BackupName, Tier
from pg_backup_manager.domain.offsite.status import OffsiteStatus, offsite_status
from pg_backup_manager.entrypoints.cli import echo
from pg_backup_manager.entrypoints.rendering import documents
from pg_backup_manager.entrypoints.rendering import status as render_status

from .fakes import GOOD_SHA256, Companion, FakeHeartbeat, Fakes, database
from .test_offsite import MIDDLE, NEW, OLD, with_local_backups

USERS = database("users")
SCHEDULE = CronSchedule.parse(DEFAULT_SCHEDULE, "UTC")
FIRST = "file_daily_2024-07-04T09:00:00Z.dump"  # a dump at the fake clock's start
LATER = "file_daily_2024-07-04T10:00:00Z.dump"  # a dump an hour later
OTHER_SHA256 = "0" * 64


def status(fakes: Fakes, *, offsite: bool = True) -> DatabaseStatus:
    [found] = Status(
        catalog=fakes.store,
        history=fakes.run_log,
        clock=fakes.clock,
        schedules=Schedules(common=SCHEDULE),
        heartbeat=FakeHeartbeat(clock=fakes.clock),
        production=False,
        max_ages=MaxAges(common=timedelta(hours=12)),
        offsite=offsite,
    )([USERS])
    return found


def dump_and_upload(fakes: Fakes) -> None:
    fakes.backup_run().dump([USERS])


def an_hour_later(fakes: Fakes) -> None:
    fakes.clock.sleep(3600)


def sync_record(outcome: Outcome, not_offsite: tuple[str, ...] | None) -> RunRecord:
    at = Fakes().clock.now()
    return RunRecord(
        operation=Operation.SYNC,
        started_at=at,
        finished_at=at + timedelta(seconds=5),
        outcome=outcome,
        error="upload failed: connection reset" if outcome is Outcome.FAILURE else None,
        not_offsite=not_offsite,
    )


def test_a_backup_whose_upload_failed_is_missing_until_a_sync_confirms_it() -> None:
    fakes = Fakes()
    fakes.offsite.fail_after = 0

    dump_and_upload(fakes)
    failed = status(fakes).offsite
    an_hour_later(fakes)
    fakes.offsite.fail_after = None
    fakes.sync()([USERS])
    synced = status(fakes).offsite

    assert failed is not None and synced is not None
    assert [str(name) for name in failed.missing] == [FIRST]
    assert failed.newest_missing and not failed.complete
    assert failed.last_failure is not None and "connection reset" in (
        failed.last_failure.error or ""
    )
    assert synced.complete and synced.missing == ()
    assert synced.last_sync is synced.last_success


def test_a_store_down_later_leaves_only_the_new_backup_missing() -> None:
    fakes = Fakes()
    with_local_backups(fakes, "users", OLD, MIDDLE)
    fakes.sync()([USERS])
    an_hour_later(fakes)
    fakes.offsite.unreachable = True

    dump_and_upload(fakes)
    found = status(fakes).offsite

    [failure] = [r for r in fakes.run_log.records("users") if r.outcome is Outcome.FAILURE]
    assert failure.not_offsite == (OLD, MIDDLE, LATER)  # the sync could confirm none
    assert found is not None and [str(name) for name in found.missing] == [LATER]


def test_a_backup_taken_after_the_last_sync_is_missing_though_that_sync_succeeded() -> None:
    fakes = Fakes()
    dump_and_upload(fakes)
    an_hour_later(fakes)

    fakes.take_backups()([USERS])  # a dump with no sync after it
    found = status(fakes).offsite

    assert found is not None and [str(name) for name in found.missing] == [LATER]
    assert found.last_sync is not None and found.last_sync.outcome is Outcome.SUCCESS


def test_without_a_sync_every_local_backup_is_missing() -> None:
    fakes = Fakes()
    with_local_backups(fakes, "users", OLD, MIDDLE)

    found = status_from(fakes, [])

    assert [str(name) for name in found.missing] == [MIDDLE, OLD]
    assert found.last_sync is None


def test_a_sync_that_could_not_take_the_lock_records_that_it_cannot_tell() -> None:
    fakes = Fakes()
    with_local_backups(fakes, "users", OLD)
    fakes.locks.busy.add("users")

    fakes.sync()([USERS])
    found = status(fakes).offsite

    [record] = fakes.run_log.records("users")
    assert record.outcome is Outcome.FAILURE and record.not_offsite is None
    assert found is not None and [str(name) for name in found.missing] == [OLD]


def test_a_failed_sync_confirms_the_backups_it_names_with_their_checksums() -> None:
    fakes = Fakes()
    with_local_backups(fakes, "users", OLD, MIDDLE)
    failed = attrs.evolve(
        sync_record(Outcome.FAILURE, not_offsite=(MIDDLE,)),
        confirmed_offsite=((OLD, GOOD_SHA256),),
    )

    found = status_from(fakes, [failed])

    assert [str(name) for name in found.missing] == [MIDDLE]
    assert found.newest_missing


def test_a_successful_sync_records_that_nothing_is_missing() -> None:
    fakes = Fakes()
    with_local_backups(fakes, "users", OLD)

    fakes.sync()([USERS])

    [record] = fakes.run_log.records("users")
    assert record.outcome is Outcome.SUCCESS and record.not_offsite == ()


def test_without_an_offsite_store_the_status_says_nothing_of_it() -> None:
    fakes = Fakes()
    dump_and_upload(fakes)

    assert status(fakes, offsite=False).offsite is None


def test_the_history_keeps_what_a_sync_left_missing_and_other_lines_unchanged(
    tmp_path: Path,
) -> None:
    layout = Layout(data_root=tmp_path, shared_root=tmp_path, databases_root=tmp_path)
    run_log = JsonlRunLog(layout=layout)
    failed = sync_record(Outcome.FAILURE, not_offsite=(OLD, MIDDLE))
    dumped = attrs.evolve(failed, operation=Operation.DUMP, not_offsite=None)

    run_log.record("users", dumped)
    run_log.record("users", failed)

    lines = [json.loads(line) for line in (tmp_path / "users" / HISTORY_NAME).open()]
    assert "not_offsite" not in lines[0]
    assert lines[1]["not_offsite"] == [OLD, MIDDLE]
    assert [record.not_offsite for record in run_log.records("users")] == [None, (OLD, MIDDLE)]


def test_a_history_line_with_a_strange_not_offsite_is_kept_and_tells_nothing(
    tmp_path: Path,
) -> None:
    layout = Layout(data_root=tmp_path, shared_root=tmp_path, databases_root=tmp_path)
    run_log = JsonlRunLog(layout=layout)
    run_log.record("users", sync_record(Outcome.FAILURE, not_offsite=(OLD,)))
    path = tmp_path / "users" / HISTORY_NAME
    path.write_text(path.read_text().replace(f'["{OLD}"]', "[3]"))

    [record] = run_log.records("users")

    assert record.outcome is Outcome.FAILURE and record.not_offsite is None


def test_status_says_off_site_missing_with_the_count_and_the_last_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    fakes = Fakes()
    fakes.offsite.fail_after = 0
    dump_and_upload(fakes)

    echo(render_status.statuses([status(fakes)], Schedules(common=SCHEDULE)))

    assert capsys.readouterr().out.splitlines()[-1] == (
        "  off-site: missing (1 of 1 backup(s) not off-site, the newest among them; "
        "last sync failed at 2024-07-04T09:00:00Z: "
        f"upload of {FIRST} failed: connection reset)"
    )


def test_status_says_off_site_ok_once_a_sync_confirmed_every_backup(
    capsys: pytest.CaptureFixture[str],
) -> None:
    fakes = Fakes()
    with_local_backups(fakes, "users", OLD, MIDDLE)
    fakes.sync()([USERS])

    echo(render_status.statuses([status(fakes)], Schedules(common=SCHEDULE)))
    echo(render_status.statuses([status(fakes, offsite=False)], Schedules(common=SCHEDULE)))

    out = capsys.readouterr().out
    assert "  off-site: ok (2 backup(s) off-site; last sync 2024-07-04T09:00:00Z)\n" in out
    assert out.count("off-site:") == 1  # nothing without an off-site store


def test_status_without_any_sync_says_so() -> None:
    fakes = Fakes()
    with_local_backups(fakes, "users", OLD, MIDDLE)

    found = status(fakes).offsite

    assert found is not None
    assert render_status.offsite(found) == (
        "off-site: missing (2 of 2 backup(s) not off-site, the newest among them; no sync yet)"
    )


def test_status_json_has_an_offsite_entry_only_with_an_offsite_store(
    capsys: pytest.CaptureFixture[str],
) -> None:
    fakes = Fakes()
    fakes.offsite.fail_after = 0
    dump_and_upload(fakes)

    print(documents.statuses([status(fakes)]))
    with_store = json.loads(capsys.readouterr().out)
    print(documents.statuses([status(fakes, offsite=False)]))
    without = json.loads(capsys.readouterr().out)

    assert with_store["databases"][0]["offsite"] == {
        "state": "missing",
        "missing_backups": [FIRST],
        "newest_backup_offsite": False,
        "last_success_at": None,
        "last_failure_at": "2024-07-04T09:00:00Z",
        "last_error": f"upload of {FIRST} failed: connection reset",
    }
    assert "offsite" not in without["databases"][0]


def scrape(statuses: list[DatabaseStatus], fakes: Fakes) -> str:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(BackupCollector(lambda: statuses))
    return generate_latest(registry).decode()


def test_the_metrics_count_the_backups_missing_off_site_and_time_the_last_syncs() -> None:
    fakes = Fakes()
    fakes.offsite.fail_after = 0
    dump_and_upload(fakes)
    an_hour_later(fakes)
    fakes.offsite.fail_after = None
    fakes.take_backups()([USERS])  # the next dump's upload has not happened yet

    scraped = scrape([status(fakes)], fakes)

    assert 'pg_backup_offsite_missing{database="users"} 2.0' in scraped
    assert 'pg_backup_offsite_last_failure_timestamp_seconds{database="users"} 1.72008' in scraped
    assert "pg_backup_offsite_last_success_timestamp_seconds{" not in scraped
    fakes.sync()([USERS])
    scraped = scrape([status(fakes)], fakes)
    assert 'pg_backup_offsite_missing{database="users"} 0.0' in scraped
    assert "pg_backup_offsite_last_success_timestamp_seconds{" in scraped


def test_without_an_offsite_store_there_is_no_offsite_metric() -> None:
    fakes = Fakes()
    dump_and_upload(fakes)

    scraped = scrape([status(fakes, offsite=False)], fakes)

    assert "offsite" not in scraped
    assert 'pg_backup_healthy{database="users"} 1.0' in scraped


@attrs.define
class RecordingNotifier:
    """Keeps what it would send: (identifier, title, body)."""

    sent: list[tuple[str, str, str]] = attrs.field(factory=list)

    def notify(self, identifier: str, record: RunRecord, *, resolves: bool = False) -> None:
        if record.outcome is Outcome.FAILURE:
            self.sent.append((identifier, *message(identifier, record)))


def test_a_failed_upload_is_notified_like_any_failure_and_says_what_is_missing() -> None:
    fakes = Fakes()
    notifier = RecordingNotifier()
    fakes.offsite.fail_after = 0
    with_local_backups(fakes, "users", OLD)
    journal = Journal(history=fakes.run_log, tell=Tell(notifier=notifier, pings=fakes.pings))
    run = fakes.backup_run()
    run = attrs.evolve(
        run,
        take_backups=attrs.evolve(run.take_backups, run_log=journal),
        offsite=CopyOffsite(
            sync=attrs.evolve(fakes.sync(), run_log=journal),
            prune_offsite=fakes.prune_offsite(),
            retention=True,
        ),
    )

    run.dump([USERS])

    [(identifier, title, body)] = notifier.sent
    assert (identifier, title) == ("users", "users: sync failure")
    assert f"error: upload of {OLD} failed: connection reset" in body
    assert f"off-site: missing 2 backup(s): {OLD}, {FIRST} (kept locally)" in body
    assert GOOD_SHA256 not in body


def test_a_backup_renamed_into_the_past_is_missing_though_a_later_sync_succeeded() -> None:
    fakes = Fakes()
    with_local_backups(fakes, "users", MIDDLE)
    fakes.sync()([USERS])
    an_hour_later(fakes)

    with_local_backups(fakes, "users", OLD)  # renamed by hand, dated before the sync
    found = status(fakes).offsite

    assert found is not None and [str(name) for name in found.missing] == [OLD]
    assert found.last_sync is not None and found.last_sync.outcome is Outcome.SUCCESS


def test_a_backup_whose_content_changed_under_its_name_since_its_sync_is_missing() -> None:
    fakes = Fakes()
    with_local_backups(fakes, "users", OLD, MIDDLE)
    fakes.sync()([USERS])

    fakes.store.checksums["users", BackupName.parse(OLD)] = OTHER_SHA256
    found = status(fakes).offsite

    assert found is not None and [str(name) for name in found.missing] == [OLD]


def test_a_copy_a_later_sync_found_unusable_is_missing_until_a_sync_completes_it() -> None:
    fakes = Fakes()
    with_local_backups(fakes, "users", OLD, MIDDLE)
    fakes.sync()([USERS])
    fakes.offsite.lose("users", BackupName.parse(OLD), Companion.WRONG_CHECKSUM)

    fakes.sync()([USERS])  # cannot complete it: its checksum object holds another SHA-256
    refuted = status(fakes).offsite
    del fakes.offsite.lost["users", BackupName.parse(OLD)]
    fakes.offsite.lose("users", BackupName.parse(OLD), Companion.CHECKSUM)
    fakes.sync()([USERS])  # completes it
    completed = status(fakes).offsite

    assert refuted is not None and [str(name) for name in refuted.missing] == [OLD]
    assert completed is not None and completed.missing == ()


def test_a_sync_records_the_name_and_checksum_of_each_backup_it_confirmed() -> None:
    fakes = Fakes()
    with_local_backups(fakes, "users", OLD, MIDDLE)
    fakes.sync()([USERS])
    with_local_backups(fakes, "users", NEW)
    fakes.offsite.fail_after = 0

    fakes.sync()([USERS])

    succeeded, failed = fakes.run_log.records("users")
    assert succeeded.confirmed_offsite == ((OLD, GOOD_SHA256), (MIDDLE, GOOD_SHA256))
    assert failed.outcome is Outcome.FAILURE and failed.not_offsite == (NEW,)
    assert failed.confirmed_offsite == ((OLD, GOOD_SHA256), (MIDDLE, GOOD_SHA256))


def test_a_sync_record_from_before_confirmations_were_kept_confirms_nothing() -> None:
    fakes = Fakes()
    with_local_backups(fakes, "users", OLD)
    old = attrs.evolve(sync_record(Outcome.SUCCESS, not_offsite=()), confirmed_offsite=None)

    found = status_from(fakes, [old])

    assert [str(name) for name in found.missing] == [OLD]


def test_the_history_keeps_what_a_sync_confirmed_and_reads_lines_without_it(
    tmp_path: Path,
) -> None:
    layout = Layout(data_root=tmp_path, shared_root=tmp_path, databases_root=tmp_path)
    run_log = JsonlRunLog(layout=layout)
    synced = attrs.evolve(
        sync_record(Outcome.SUCCESS, not_offsite=()), confirmed_offsite=((OLD, GOOD_SHA256),)
    )
    run_log.record("users", synced)
    run_log.record("users", attrs.evolve(synced, confirmed_offsite=None))
    path = tmp_path / "users" / HISTORY_NAME
    first = path.read_text().splitlines()[0]
    with path.open("a") as history:  # a third line whose confirmations are not a mapping
        history.write(first.replace(f'{{"{OLD}": "{GOOD_SHA256}"}}', '["strange"]') + "\n")

    lines = [json.loads(line) for line in path.open()]
    records = run_log.records("users")

    assert lines[0]["confirmed_offsite"] == {OLD: GOOD_SHA256}
    assert "confirmed_offsite" not in lines[1]
    assert [r.confirmed_offsite for r in records] == [((OLD, GOOD_SHA256),), None, None]


def test_off_site_judges_the_newest_backup_that_is_not_dated_in_the_future() -> None:
    fakes = Fakes()
    with_local_backups(fakes, "users", OLD)
    fakes.sync()([USERS])
    future = BackupName.for_run(tier=Tier.DAILY, at=fakes.clock.now() + timedelta(days=1))
    with_local_backups(fakes, "users", str(future))

    found = status(fakes).offsite

    assert found is not None and [str(name) for name in found.missing] == [str(future)]
    assert found.newest == BackupName.parse(OLD) and not found.newest_missing


def status_from(fakes: Fakes, history: list[RunRecord]) -> OffsiteStatus:
    backups = [
        attrs.evolve(b, sha256=fakes.store.checksums.get(("users", b.name)))
        for b in fakes.store.backups("users")
    ]
    return offsite_status(backups, history, newest=backups[0] if backups else None)


def test_a_copy_gone_off_site_whose_upload_then_fails_is_missing() -> None:
    """A black-box review: the newest archive deleted off-site, the next sync could not
    upload it again, and status still said ``off-site: ok``."""
    fakes = Fakes()
    with_local_backups(fakes, "users", OLD, MIDDLE)
    fakes.sync()([USERS])
    del fakes.offsite.copied["users"][BackupName.parse(MIDDLE)]  # lost on the store
    fakes.offsite.fail_after = 0

    [result] = fakes.sync()([USERS]).results
    found = status(fakes).offsite

    assert result.error is not None
    assert found is not None and [str(name) for name in found.missing] == [MIDDLE]


def test_a_copy_replaced_by_other_content_off_site_is_missing() -> None:
    """The same review: an archive truncated in place, ``sync`` said "exists with other
    content" (exit 1), and status still said ``off-site: ok``."""
    fakes = Fakes()
    with_local_backups(fakes, "users", OLD, MIDDLE)
    fakes.sync()([USERS])
    copies = fakes.offsite.copied["users"]
    name = BackupName.parse(OLD)
    copies[name] = attrs.evolve(copies[name], sha256=OTHER_SHA256)

    [result] = fakes.sync()([USERS]).results
    found = status(fakes).offsite

    assert result.error is not None and "other content" in str(result.error)
    assert found is not None and [str(name) for name in found.missing] == [OLD]


def test_a_store_that_cannot_be_listed_judges_nothing_and_leaves_confirmations() -> None:
    fakes = Fakes()
    with_local_backups(fakes, "users", OLD, MIDDLE)
    fakes.sync()([USERS])
    fakes.offsite.unreachable = True

    [result] = fakes.sync()([USERS]).results
    found = status(fakes).offsite

    assert result.error is not None
    assert found is not None and found.missing == ()


def test_status_reads_the_checksum_file_only_of_a_backup_a_sync_confirmed_and_the_newest() -> None:
    fakes = Fakes()
    with_local_backups(fakes, "users", OLD, MIDDLE, NEW)
    at = fakes.clock.now()
    fakes.run_log.record(
        "users",
        RunRecord(
            operation=Operation.SYNC,
            started_at=at,
            finished_at=at,
            outcome=Outcome.SUCCESS,
            confirmed_offsite=((OLD, GOOD_SHA256), (MIDDLE, OTHER_SHA256)),
            unusable_offsite=(NEW,),
        ),
    )

    found = status(fakes)

    assert found.offsite is not None
    assert [str(name) for name in found.offsite.missing] == [NEW, MIDDLE]
    # MIDDLE's and OLD's decide; NEW is missing whatever its file says, read as the newest.
    assert sorted(name for _, name in fakes.store.checksums_read) == sorted([OLD, MIDDLE, NEW])
    assert found.newest is not None and found.newest.sha256 == GOOD_SHA256


def test_status_reads_no_checksum_file_of_a_backup_no_sync_named() -> None:
    fakes = Fakes()
    with_local_backups(fakes, "users", OLD, MIDDLE, NEW)

    found = status(fakes)

    assert found.offsite is not None and len(found.offsite.missing) == 3
    assert fakes.store.checksums_read == [("users", NEW)]  # the newest's, for its sha256
