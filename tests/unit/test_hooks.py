"""The commands run before and after each database's backup: a failed pre-backup command
skips the backup and fails like any other; the post-backup command always runs after an
attempt whose lock was held, is told what happened, and its failure keeps the backup."""

from __future__ import annotations

from pathlib import PurePath

import attrs
import pytest

from pg_backup_manager.domain.backups.dumping import TakeBackups
from pg_backup_manager.domain.backups.hooks import Attempt
from pg_backup_manager.domain.history import Operation, Outcome
from pg_backup_manager.domain.model import Database
from pg_backup_manager.domain.names import BackupName

from .fakes import FakeDumper, FakeHooks, Fakes, database

USERS = database("users")
ORDERS = database("orders")
NEW = "file_daily_2024-07-04T09:00:00Z.dump"  # what the fake clock's dump is called
STOPPED = "the controller was stopped (SIGTERM) during the backup"


class Stop(BaseException):
    """A stop signal, as the scheduler's handler raises it (a BaseException)."""


@attrs.define
class StoppedDumper(FakeDumper):
    """A dumper that a stop signal interrupts."""

    def dump(self, database: Database, target: PurePath) -> None:
        raise Stop("SIGTERM")


@attrs.define
class StoppedHooks(FakeHooks):
    """Hooks whose pre-backup command a stop signal interrupts."""

    def before(self, database: Database) -> None:
        super().before(database)
        raise Stop("SIGTERM")


def stopped_take(fakes: Fakes) -> TakeBackups:
    """Return ``dump``'s use case, told that a SIGTERM came."""
    return attrs.evolve(fakes.take_backups(), stopping=lambda: "SIGTERM")


def dump(fakes: Fakes, *databases: str) -> tuple[int, list[str | None]]:
    """Run ``dump`` of ``databases`` (users by default); return its exit code and the error
    of each database."""
    report = fakes.backup_run(offsite=False).dump([database(d) for d in databases or ["users"]])
    return report.exit_code, [r.error and str(r.error) for r in report.dumps.results]


def test_both_commands_run_under_the_lock_around_the_backup_and_the_post_one_hears_of_it() -> None:
    fakes = Fakes()

    code, errors = dump(fakes)

    assert (code, errors) == (0, [None])
    name = BackupName.parse(NEW)
    assert fakes.hooks.ran == [
        ("before", "users", True),
        ("after", "users", True, Attempt(backup=name, error=None)),
    ]
    assert fakes.store.names("users") == [NEW]


def test_a_failing_pre_backup_command_skips_the_backup_which_fails_like_any_other() -> None:
    fakes = Fakes()
    fakes.hooks.failing_before.add("users")
    take = attrs.evolve(fakes.take_backups(), run_log=fakes.journal())

    [result] = take([USERS, ORDERS]).results[:1]

    assert [identifier for identifier, _ in fakes.dumper.dumped] == ["orders"]
    assert fakes.store.names("users") == []
    assert result.error is not None and result.error.exit_code == 1
    said = "PRE_BACKUP_COMMAND (/hooks/pre) failed (exit 3): users busy; no backup was taken"
    assert str(result.error) == said
    [record] = fakes.run_log.records("users")
    assert (record.operation, record.outcome, record.error) == (
        Operation.DUMP,
        Outcome.FAILURE,
        said,
    )
    assert [(i, r.outcome, r.error) for i, r in fakes.notifier.told if i == "users"] == [
        ("users", Outcome.FAILURE, said)
    ]


def test_a_failed_pre_backup_command_makes_dump_exit_1_and_the_scheduled_run_ping_fail() -> None:
    fakes = Fakes()
    fakes.hooks.failing_before.add("users")

    code, _ = dump(fakes)
    report = fakes.backup_run(offsite=False).scheduled((USERS, ORDERS), share=False)

    assert code == 1
    assert report.exit_code == 1
    assert list(report.failures) == ["users"]
    assert fakes.pings.pinged[-1] == ("end", ("users", "orders"), report.failures)
    assert [r.database.identifier for r in report.pruned] == ["orders"]


def test_the_post_backup_command_runs_after_a_failed_pre_backup_command_told_of_it() -> None:
    fakes = Fakes()
    fakes.hooks.failing_before.add("users")

    _, [error] = dump(fakes)

    assert fakes.hooks.ran[-1] == ("after", "users", True, Attempt(backup=None, error=error))


def test_the_post_backup_command_runs_after_a_failed_dump_told_its_error() -> None:
    fakes = Fakes()
    fakes.dumper.failing.add("users")

    code, [error] = dump(fakes)

    assert code == 1
    assert error == "pg_dump of users failed (exit 1): refused"
    assert fakes.hooks.ran[-1] == ("after", "users", True, Attempt(backup=None, error=error))


def test_a_failing_post_backup_command_fails_the_run_and_keeps_the_backup() -> None:
    fakes = Fakes()
    fakes.hooks.failing_after.add("users")

    report = fakes.backup_run(offsite=True).scheduled((USERS,), share=False)

    [result] = report.dumps.results
    assert result.backup is not None and str(result.backup.name) == NEW
    assert str(result.error) == (
        f"POST_BACKUP_COMMAND (/hooks/post) failed (exit 1): no NAS; {NEW} is kept"
    )
    assert report.exit_code == 1
    assert fakes.store.names("users") == [NEW]
    assert ("upload", "users", NEW) in fakes.offsite.actions
    assert [r.database.identifier for r in report.pruned] == ["users"]
    [dumped, *_] = fakes.run_log.records("users")
    assert (dumped.outcome, dumped.backup) == (Outcome.FAILURE, NEW)


def test_a_failing_post_backup_command_after_a_failed_check_keeps_the_worse_exit_code() -> None:
    fakes = Fakes()
    fakes.checker.unreadable.add(NEW)
    fakes.hooks.failing_after.add("users")

    code, [error] = dump(fakes)

    assert code == 3
    assert error is not None
    assert "is damaged: pg_restore cannot read it; then " in error
    assert error.endswith("; then POST_BACKUP_COMMAND (/hooks/post) failed (exit 1): no NAS")


def test_no_command_runs_for_a_database_whose_lock_is_busy() -> None:
    fakes = Fakes()
    fakes.locks.busy.add("users")

    code, _ = dump(fakes)

    assert code == 4
    assert fakes.hooks.ran == []


def test_each_database_runs_its_own_commands_in_a_scheduled_run_too() -> None:
    fakes = Fakes()

    fakes.backup_run(offsite=False).scheduled((USERS, ORDERS), share=False)

    assert [(phase, identifier) for phase, identifier, *_ in fakes.hooks.ran] == [
        ("before", "users"),
        ("after", "users"),
        ("before", "orders"),
        ("after", "orders"),
    ]


def test_without_hooks_a_backup_runs_no_command() -> None:
    fakes = Fakes()
    take = TakeBackups(
        writer=fakes.writer(),
        shared=fakes.store.shared_copies,
        locks=fakes.locks,
        clock=fakes.clock,
        run_log=fakes.run_log,
        timezone="UTC",
    )

    [result] = take([USERS]).results

    assert result.succeeded
    assert fakes.hooks.ran == []


def test_a_stop_signal_during_the_dump_runs_the_post_backup_command_under_the_lock() -> None:
    fakes = Fakes()
    take = stopped_take(fakes)
    take = attrs.evolve(take, writer=attrs.evolve(take.writer, dumper=StoppedDumper()))

    with pytest.raises(Stop):
        take([USERS])

    assert fakes.hooks.ran[-1] == ("after", "users", True, Attempt(backup=None, error=STOPPED))
    assert fakes.store.names("users") == []


def test_a_stop_signal_during_the_pre_backup_command_runs_the_post_backup_command() -> None:
    fakes = Fakes()
    hooks = StoppedHooks(locks=fakes.locks)
    take = attrs.evolve(stopped_take(fakes), hooks=hooks)

    with pytest.raises(Stop):
        take([USERS])

    assert hooks.ran == [
        ("before", "users", True),
        ("after", "users", True, Attempt(backup=None, error=STOPPED)),
    ]
    assert fakes.dumper.dumped == []


def test_a_post_backup_command_failing_after_a_stop_is_told_with_the_stop() -> None:
    fakes = Fakes()
    hooks = StoppedHooks(locks=fakes.locks, failing_after={"users"})
    take = attrs.evolve(stopped_take(fakes), hooks=hooks)

    with pytest.raises(Stop) as stop:
        take([USERS])

    assert stop.value.__notes__ == ["POST_BACKUP_COMMAND (/hooks/post) failed (exit 1): no NAS"]


def test_a_dump_a_stop_ended_in_another_thread_tells_the_post_command_of_the_stop() -> None:
    fakes = Fakes()
    fakes.dumper.failing.add("users")  # its pg_dump ended by the stop's SIGTERM

    report = stopped_take(fakes)([USERS])

    said = f"{STOPPED}: pg_dump of users failed (exit 1): refused"
    assert fakes.hooks.ran[-1] == ("after", "users", True, Attempt(backup=None, error=said))
    assert str(report.results[0].error) == "pg_dump of users failed (exit 1): refused"
