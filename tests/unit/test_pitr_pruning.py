"""PITR retention carried out: ``PrunePitr`` over fakes, the supervisor's base backup
followed by it, and ``prune`` through the real container."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import attrs
import pytest
from dependency_injector import providers

from pg_backup_manager.domain.errors import BusyError, ControllerError
from pg_backup_manager.domain.history import Operation, Outcome
from pg_backup_manager.domain.model import Database
from pg_backup_manager.domain.pitr.basebackup import BaseBackupResult
from pg_backup_manager.domain.pitr.model import BaseBackup, Stream
from pg_backup_manager.domain.pitr.pruning import PrunedAfterBaseBackup, PrunePitr
from pg_backup_manager.entrypoints.containers import Container
from pg_backup_manager.entrypoints.main import main

from .fakes import FakeClock, FakeLocks, FakePitrStore, FakeRunLog, database
from .pitr_builders import a_stream, base, seg

USERS = database("users", wal_archive=True)
NOW = FakeClock().now()
OLD = a_stream(NOW - timedelta(days=40))
LIVE = a_stream(NOW - timedelta(days=20))


def daily(first: int, started_at: datetime) -> BaseBackup:
    """A base backup of the live stream that took ten minutes."""
    taken = base(first, stream=LIVE, started_at=started_at)
    return attrs.evolve(taken, finished_at=started_at + timedelta(minutes=10))


def planted() -> FakePitrStore:
    """An old stream that ended 30 days ago, and the live one: daily base backups for
    10 days (base n starts in segment n), WAL segments 1 to 12."""
    store = FakePitrStore()
    store.kept["users"] = [OLD, LIVE]
    store.bases[("users", OLD.name)] = [base(2, stream=OLD, started_at=NOW - timedelta(days=35))]
    store.wal[("users", OLD.name)] = [seg(n, at=NOW - timedelta(days=30)) for n in (1, 2, 3)]
    store.bases[("users", LIVE.name)] = [
        daily(11 - d, NOW - timedelta(days=d, hours=1)) for d in range(10)
    ]
    store.wal[("users", LIVE.name)] = [
        seg(n, at=NOW - timedelta(days=12 - n)) for n in range(1, 13)
    ]
    return store


@pytest.fixture
def store() -> FakePitrStore:
    return planted()


@pytest.fixture
def run_log() -> FakeRunLog:
    return FakeRunLog()


@pytest.fixture
def locks() -> FakeLocks:
    return FakeLocks()


@pytest.fixture
def prune(store: FakePitrStore, run_log: FakeRunLog, locks: FakeLocks) -> PrunePitr:
    return PrunePitr(
        store=store, pruner=store, locks=locks, clock=FakeClock(), run_log=run_log, retention_days=7
    )


def names(store: FakePitrStore, stream: Stream) -> list[str]:
    return [b.name for b in store.base_backups("users", stream)]


def test_a_dry_run_deletes_nothing_and_records_nothing(
    prune: PrunePitr, store: FakePitrStore, run_log: FakeRunLog
) -> None:
    result = prune.one(USERS, dry_run=True)

    assert store.actions == []
    assert run_log.records("users") == []
    assert [s.name for s in result.plan.streams_to_delete] == [OLD.name]
    assert len(result.plan.bases_to_delete) == 3  # the old stream's, and 2 past the window


def test_prune_deletes_old_streams_bases_and_the_wal_only_they_needed_and_records_it(
    prune: PrunePitr, store: FakePitrStore, run_log: FakeRunLog
) -> None:
    before = names(planted(), LIVE)

    result = prune.one(USERS)

    assert store.streams("users") == [LIVE]
    assert names(store, LIVE) == before[:8]  # 7 days and the one before them
    oldest_kept = store.base_backups("users", LIVE)[-1]
    assert [s.number for s in store.segments("users", LIVE)] == list(range(4, 13))
    assert oldest_kept.start_lsn // (16 << 20) == 4
    assert str(result.deleted) == "3 base backups, 6 WAL segments, 1 streams"
    (record,) = run_log.records("users")
    assert (record.operation, record.outcome) == (Operation.PRUNE_PITR, Outcome.SUCCESS)
    assert record.note == "deleted 3 base backups, 6 WAL segments, 1 streams"


def test_base_backups_go_before_wal_and_wal_goes_oldest_first(
    prune: PrunePitr, store: FakePitrStore
) -> None:
    prune.one(USERS)

    live = [a for a in store.actions if LIVE.name in a]
    assert [a.split("/")[1] for a in live] == ["base", "base", "wal", "wal", "wal"]
    assert live[2].endswith("000000010000000000000001")


def test_a_base_backup_that_cannot_go_keeps_its_wal_and_the_rest_goes_on(
    prune: PrunePitr, store: FakePitrStore, run_log: FakeRunLog
) -> None:
    stuck = store.base_backups("users", LIVE)[-1]
    store.undeletable.add(stuck.name)

    result = prune.one(USERS)

    assert result.exit_code == 1
    assert result.failures == (f"cannot delete {stuck.name}: Permission denied",)
    assert store.streams("users") == [LIVE]  # the old stream went all the same
    assert len(store.segments("users", LIVE)) == 12
    (record,) = run_log.records("users")
    assert record.outcome is Outcome.FAILURE
    assert record.error == (
        f"1 deletions failed, the first: cannot delete {stuck.name}: Permission denied"
    )


def test_a_segment_that_cannot_go_stops_its_stream_at_one_line(
    prune: PrunePitr, store: FakePitrStore
) -> None:
    store.undeletable.add(seg(1).name)

    result = prune.one(USERS)

    assert result.failures == (f"cannot delete {seg(1).name}: Permission denied",)
    assert len(store.segments("users", LIVE)) == 12


def test_a_busy_lock_is_raised_and_nothing_deleted(
    prune: PrunePitr, store: FakePitrStore, locks: FakeLocks
) -> None:
    locks.busy.add("users")

    with pytest.raises(BusyError):
        prune.one(USERS)

    assert store.actions == []


def taken(error: ControllerError | None = None) -> Callable[[Database], BaseBackupResult]:
    return lambda database: BaseBackupResult(database=database, error=error)


def test_the_supervisors_base_backup_is_followed_by_retention_when_it_counts(
    prune: PrunePitr, store: FakePitrStore
) -> None:
    result = PrunedAfterBaseBackup(take=taken(), prune=prune)(USERS)

    assert result.error is None
    assert store.streams("users") == [LIVE]


def test_a_failed_base_backup_prunes_nothing(prune: PrunePitr, store: FakePitrStore) -> None:
    PrunedAfterBaseBackup(take=taken(ControllerError("pg_basebackup failed")), prune=prune)(USERS)

    assert store.actions == []


def test_retention_that_finds_the_lock_busy_never_fails_the_supervisor(
    prune: PrunePitr, store: FakePitrStore, locks: FakeLocks, run_log: FakeRunLog
) -> None:
    locks.busy.add("users")

    result = PrunedAfterBaseBackup(take=taken(), prune=prune)(USERS)

    assert result.error is None
    assert store.actions == []
    assert [r.outcome for r in run_log.records("users")] == [Outcome.FAILURE]


Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run(store: FakePitrStore, capsys: pytest.CaptureFixture[str]) -> Iterator[Run]:
    from .fakes import Fakes

    fakes = Fakes()

    def run(*argv: str, **environ: str) -> tuple[int, str, str]:
        base_environ = {"DATABASE_LIST": "users,orders", "USERS_WAL_ARCHIVE": "true"}
        container = Container(environ={**base_environ, **environ}, cwd=Path("/srv"))
        container.drop_root.override(providers.Object(lambda user: None))
        container.history.override(fakes.run_log)
        container.notifier.override(fakes.notifier)
        container.catalog.override(fakes.store)
        container.locks.override(fakes.locks)
        container.clock.override(fakes.clock)
        container.pitr.clock.override(fakes.clock)
        container.pitr.locks.override(fakes.locks)
        container.pitr.store.override(store)
        code = main(list(argv), container=container)
        out, err = capsys.readouterr()
        return code, out, err

    yield run


def test_prune_dry_run_prints_each_stream_its_base_backups_and_wal_ranges(
    run: Run, store: FakePitrStore
) -> None:
    code, out, err = run("prune", "users", "--dry-run")

    assert (code, err) == (0, "")
    assert store.actions == []
    lines = out.splitlines()
    assert f"users: PITR stream {OLD.name}: would delete (no base backup kept)" in lines
    assert f"users: PITR stream {LIVE.name}: keep (the live stream)" in lines
    assert (
        "users:   would delete WAL 000000010000000000000001 .. 000000010000000000000003 "
        "(3 segments, 48.0 MiB: before the start of the oldest kept base backup)"
    ) in lines
    assert (
        "users:   keep   WAL 000000010000000000000004 .. 00000001000000000000000C "
        "(9 segments, 144.0 MiB: at or after the start of the oldest kept base backup)"
    ) in lines
    assert any(
        line.endswith("(7.0 days old, recovers to PITR_RETENTION_DAYS ago)") for line in lines
    )
    assert lines[-1] == (
        "users: PITR: 3 of 11 base backups, 6 of 15 WAL segments, 1 of 2 streams would be deleted"
    )


def test_prune_deletes_and_counts_what_it_deleted(run: Run, store: FakePitrStore) -> None:
    code, out, _ = run("prune", "--all")

    assert code == 0
    assert store.streams("users") == [LIVE]
    assert out.splitlines()[-1] == (
        "users: PITR: 3 of 11 base backups, 6 of 15 WAL segments, 1 of 2 streams deleted"
    )
    assert "orders: PITR" not in out  # no WAL archiving there


def test_a_failed_deletion_is_one_error_line_and_exit_1(run: Run, store: FakePitrStore) -> None:
    store.undeletable.add(OLD.name)

    code, _, err = run("prune", "users")

    assert code == 1
    assert err == f"error: prune users: cannot delete {OLD.name}: Permission denied\n"
    assert len(store.base_backups("users", LIVE)) == 8


def test_prune_remote_has_nothing_to_do_with_pitr(run: Run, store: FakePitrStore) -> None:
    run("prune", "users", "--remote", OFFSITE_URL="file:///srv/offsite")

    assert store.actions == []


@pytest.mark.parametrize("value", ["0", "-1", "seven", "10001"])
def test_a_bad_pitr_retention_days_is_exit_2_naming_the_variable(
    run: Run, store: FakePitrStore, value: str
) -> None:
    code, out, err = run("prune", "users", PITR_RETENTION_DAYS=value)

    assert (code, out) == (2, "")
    assert "PITR_RETENTION_DAYS must be a whole number from 1 to 10000" in err
    assert store.actions == []
