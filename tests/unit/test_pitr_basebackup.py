"""``basebackup``: the stream a base backup goes into, and that it counts only once checked."""

from __future__ import annotations

from datetime import timedelta
from pathlib import PurePath

import attrs
import pytest

from pg_backup_manager.domain.errors import BusyError, IntegrityError, ToolError
from pg_backup_manager.domain.history import Operation, Outcome
from pg_backup_manager.domain.pitr.basebackup import TakeBaseBackups, new_stream_why
from pg_backup_manager.domain.pitr.model import StreamStart

from .fakes import (
    PITR_FACTS,
    FakeBackupVerifier,
    FakeBaseBackupTaker,
    FakePitrStore,
    Fakes,
    database,
)

USERS = database("users", wal_archive=True)
ORDERS = database("orders", wal_archive=True)


@attrs.define
class Pitr:
    """The fakes a base backup goes through."""

    fakes: Fakes = attrs.field(factory=Fakes)
    store: FakePitrStore = attrs.field(factory=FakePitrStore)
    taker: FakeBaseBackupTaker = attrs.field(factory=FakeBaseBackupTaker)
    verifier: FakeBackupVerifier = attrs.field(factory=FakeBackupVerifier)

    def take(self) -> TakeBaseBackups:
        return TakeBaseBackups(
            store=self.store,
            staging=self.store,
            taker=self.taker,
            verifier=self.verifier,
            locks=self.fakes.locks,
            clock=self.fakes.clock,
            run_log=self.fakes.journal(),
        )


@pytest.fixture
def pitr() -> Pitr:
    return Pitr()


def test_the_first_base_backup_begins_the_first_stream(pitr: Pitr) -> None:
    report = pitr.take()([USERS])

    [result] = report.results
    assert report.exit_code == 0
    assert result.new_stream
    assert result.stream is not None and result.stream.why is StreamStart.FIRST
    assert result.stream.slot == "pg_backup_manager_users"
    assert result.backup is not None and result.backup.name == "2024-07-04T09:00:00Z"
    assert pitr.store.actions == [
        "stage users 2024-07-04T09:00:00Z",
        "open users 2024-07-04T09:00:00Z first",
        "commit users 2024-07-04T09:00:00Z/2024-07-04T09:00:00Z",
    ]


def test_a_base_backup_is_checked_with_the_tool_of_its_major_before_it_counts(pitr: Pitr) -> None:
    pitr.take()([USERS])

    [(into, major)] = pitr.verifier.checked
    assert pitr.taker.taken == [("users", into, "pg_backup_manager-2024-07-04T09:00:00Z")]
    assert major == PITR_FACTS.server_major


def test_a_base_backup_of_the_same_server_and_timeline_goes_into_the_newest_stream(
    pitr: Pitr,
) -> None:
    first = pitr.take().one(USERS)
    pitr.fakes.clock.sleep(3600)

    second = pitr.take().one(USERS)

    assert not second.new_stream
    assert second.stream == first.stream
    assert [action.split()[0] for action in pitr.store.actions].count("open") == 1


def test_another_server_begins_a_new_stream_and_leaves_the_old_one_as_it_was(pitr: Pitr) -> None:
    old = pitr.take().one(USERS)
    pitr.fakes.clock.sleep(60)
    pitr.taker.facts = attrs.evolve(PITR_FACTS, system_identifier="7399999999999999999")

    new = pitr.take().one(USERS)

    assert new.stream is not None and new.stream.why is StreamStart.NEW_SERVER
    assert old.stream is not None and new.stream.name != old.stream.name
    assert [b.name for b in pitr.store.base_backups("users", old.stream)] == [
        "2024-07-04T09:00:00Z"
    ]


def test_a_new_timeline_begins_a_new_stream(pitr: Pitr) -> None:
    pitr.take().one(USERS)
    pitr.fakes.clock.sleep(60)
    pitr.taker.facts = attrs.evolve(PITR_FACTS, timeline=2)

    new = pitr.take().one(USERS)

    assert new.stream is not None and new.stream.why is StreamStart.NEW_TIMELINE
    assert new.stream.timeline == 2


def test_only_the_newest_stream_takes_a_base_backup(pitr: Pitr) -> None:
    pitr.take().one(USERS)
    pitr.fakes.clock.sleep(60)
    pitr.taker.facts = attrs.evolve(PITR_FACTS, system_identifier="7399999999999999999")
    pitr.take().one(USERS)
    pitr.fakes.clock.sleep(60)
    pitr.taker.facts = PITR_FACTS  # the first server is back

    back = pitr.take().one(USERS)

    assert back.new_stream
    assert back.stream is not None and back.stream.why is StreamStart.NEW_SERVER
    assert len(pitr.store.streams("users")) == 3


def test_a_base_backup_that_fails_its_check_is_exit_3_and_nothing_counts(pitr: Pitr) -> None:
    pitr.verifier.corrupt = {_staged("users")}

    report = pitr.take()([USERS])

    assert report.exit_code == 3
    assert isinstance(report.results[0].error, IntegrityError)
    assert pitr.store.streams("users") == []
    assert not [action for action in pitr.store.actions if action.startswith("commit")]


def test_a_failed_base_backup_is_recorded_and_told(pitr: Pitr) -> None:
    pitr.taker.failing["users"] = ToolError("pg_basebackup failed (exit 1): no pg_hba.conf entry")

    report = pitr.take()([USERS])

    assert report.exit_code == 1
    [record] = pitr.fakes.run_log.records("users")
    assert record.operation is Operation.BASEBACKUP
    assert record.outcome is Outcome.FAILURE
    assert record.error is not None and "no pg_hba.conf entry" in record.error
    assert [identifier for identifier, _ in pitr.fakes.notifier.told] == ["users"]
    assert pitr.taker.taken and not pitr.verifier.checked


def test_a_committed_base_backup_is_recorded_by_name(pitr: Pitr) -> None:
    pitr.take()([USERS])

    [record] = pitr.fakes.run_log.records("users")
    assert record.operation is Operation.BASEBACKUP
    assert record.outcome is Outcome.SUCCESS
    assert record.backup == "2024-07-04T09:00:00Z"


def test_a_busy_service_is_exit_4_and_the_others_go_on(pitr: Pitr) -> None:
    pitr.fakes.locks.busy.add("users")

    report = pitr.take()([USERS, ORDERS])

    assert report.exit_code == 4
    assert isinstance(report.results[0].error, BusyError)
    assert report.results[1].backup is not None


def test_integrity_wins_over_a_failure_of_another_service(pitr: Pitr) -> None:
    pitr.verifier.corrupt = {_staged("orders")}
    pitr.taker.failing["users"] = ToolError("pg_basebackup failed (exit 1)")

    report = pitr.take()([USERS, ORDERS])

    assert report.exit_code == 3


def test_two_base_backups_in_one_second_get_names_a_second_apart(pitr: Pitr) -> None:
    first = pitr.take().one(USERS)
    pitr.fakes.clock.current += timedelta(milliseconds=300)

    second = pitr.take().one(USERS)

    assert first.backup is not None and second.backup is not None
    assert (first.backup.name, second.backup.name) == (
        "2024-07-04T09:00:00Z",
        "2024-07-04T09:00:01Z",
    )


def test_why_a_new_stream_begins_is_said_against_the_newest_stream(pitr: Pitr) -> None:
    stream = pitr.take().one(USERS).stream
    assert stream is not None

    assert new_stream_why([], PITR_FACTS) is StreamStart.FIRST
    assert new_stream_why([stream], PITR_FACTS) is None
    assert new_stream_why([stream], attrs.evolve(PITR_FACTS, timeline=3)) is (
        StreamStart.NEW_TIMELINE
    )
    assert new_stream_why([stream], attrs.evolve(PITR_FACTS, system_identifier="1")) is (
        StreamStart.NEW_SERVER
    )


def _staged(identifier: str) -> PurePath:
    """Where the fake staging puts the first base backup of ``identifier``."""
    return PurePath(f"/staging/{identifier}/2024-07-04T09:00:00Z")
