"""The receiver's supervisor with fakes: which stream it writes, what it records and tells,
how it waits between restarts, and when it takes a base backup."""

from __future__ import annotations

from datetime import timedelta

import attrs
import pytest

from pg_backup_manager.domain.errors import ToolError
from pg_backup_manager.domain.history import Operation
from pg_backup_manager.domain.model import Database
from pg_backup_manager.domain.pitr.basebackup import BaseBackupResult
from pg_backup_manager.domain.pitr.model import ReceiverCondition, SlotState, Stream
from pg_backup_manager.domain.pitr.receiving import Supervisor
from pg_backup_manager.domain.pitr.supervision import BASE_BACKUP_RETRY

from .fakes import (
    FakeClock,
    FakePitrStore,
    FakeReceiverStates,
    FakeReplicationServer,
    FakeRunLog,
    database,
)
from .pitr_builders import base, seg
from .pitr_fakes import FakeWalArchive, FakeWalReceiver, RightAway, after

SLOT = "pg_backup_manager_users"


@attrs.define
class BaseBackups:
    """Takes base backups into the newest stream of the store (with the WAL they need),
    or fails with ``failing``; counts each."""

    store: FakePitrStore
    failing: ToolError | None = None
    taken: int = 0

    def __call__(self, target: Database) -> BaseBackupResult:
        self.taken += 1
        if self.failing is not None:
            return BaseBackupResult(database=target, error=self.failing)
        [stream, *_] = self.store.streams(target.identifier)
        size = stream.wal_segment_size
        backup = attrs.evolve(base(3, stream=stream), started_at=stream.started_at)
        self.store.bases.setdefault((target.identifier, stream.name), []).append(backup)
        self.store.wal[(target.identifier, stream.name)] = [seg(3, size=size), seg(4, size=size)]
        return BaseBackupResult(database=target, backup=backup, stream=stream)


@attrs.define
class World:
    clock: FakeClock = attrs.field(factory=FakeClock)
    server: FakeReplicationServer = attrs.field(factory=FakeReplicationServer)
    store: FakePitrStore = attrs.field(factory=FakePitrStore)
    archive: FakeWalArchive = attrs.field(factory=FakeWalArchive)
    states: FakeReceiverStates = attrs.field(factory=FakeReceiverStates)
    history: FakeRunLog = attrs.field(factory=FakeRunLog)
    receiver: FakeWalReceiver = attrs.field(init=False)
    base_backups: BaseBackups = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self.receiver = FakeWalReceiver(clock=self.clock, server=self.server)
        self.base_backups = BaseBackups(store=self.store)

    def run(self, seconds: float) -> None:
        supervisor = Supervisor(
            replication=self.server,
            store=self.store,
            archive=self.archive,
            receiver=self.receiver,
            states=self.states,
            run_log=self.history,
            clock=self.clock,
            take_base_backup=self.base_backups,
            next_base_backup=lambda at: at + timedelta(days=1),
            base_backup_runner=lambda name: RightAway(),
        )
        supervisor.run(database(), stopping=after(self.clock, seconds))

    def records(self) -> list[tuple[str, str | None, str | None]]:
        return [
            (r.outcome.value, r.note, r.error)
            for r in self.history.records("users")
            if r.operation is Operation.WAL_RECEIVER
        ]

    def streams(self) -> list[Stream]:
        return self.store.streams("users")


@pytest.fixture
def world() -> World:
    return World()


def test_the_first_start_makes_the_slot_a_stream_and_a_base_backup(world: World) -> None:
    world.run(10)

    [stream] = world.streams()
    assert (stream.why.value, stream.slot, stream.timeline) == ("first", SLOT, 1)
    assert world.server.actions == [f"create slot {SLOT}"]
    assert world.receiver.started == [("users", world.archive.wal_directory("users", stream), SLOT)]
    assert world.records() == [("success", "receiver started", None)]
    assert world.base_backups.taken == 1
    assert world.states.written["users"][-1].condition is ReceiverCondition.DOWN  # stopped


def test_a_receiver_that_keeps_dying_at_once_is_one_failure_restarted_with_backoff(
    world: World,
) -> None:
    died = "pg_receivewal exited 1: connection lost"
    world.receiver.scripts = [[died], [died], [died], [None]]

    world.run(30)

    assert len(world.receiver.started) == 4
    assert world.clock.naps[:3] == [1.0, 2.0, 2.0]  # 1 s, then 2 s (in steps of 2 s at most)
    assert world.records() == [
        ("failure", None, f"WAL receiver stopped: {died}"),
        ("success", "receiver started", None),
    ]
    assert len(world.streams()) == 1


def test_a_refusing_server_is_one_failure_and_the_state_says_why(world: World) -> None:
    world.server.refusal = "the server refused: add a pg_hba.conf line"

    world.run(20)

    assert world.records() == [
        ("failure", None, "WAL receiver stopped: the server refused: add a pg_hba.conf line")
    ]
    down = [s for s in world.states.written["users"] if s.error and "refused" in s.error]
    assert down and down[0].condition is ReceiverCondition.DOWN
    assert world.receiver.started == []
    assert world.streams() == []


def test_a_new_timeline_begins_a_new_stream_and_says_so(world: World) -> None:
    world.run(10)
    [first] = world.streams()
    world.server.identity = attrs.evolve(world.server.identity, timeline=2)
    world.clock.sleep(60)

    world.run(10)

    newest, oldest = world.streams()
    assert oldest == first
    assert (newest.why.value, newest.timeline) == ("new timeline", 2)
    assert world.server.actions == [
        f"create slot {SLOT}",
        f"drop slot {SLOT}",
        f"create slot {SLOT}",
    ]
    told = [(outcome, note) for outcome, note, _ in world.records() if note and "new str" in note]
    assert [outcome for outcome, _ in told] == ["success"]  # what a recovery does: no alarm
    notes = [note for _, note in told]
    assert notes == [
        f"new stream {newest.name} (new timeline): the window of stream {first.name} ends "
        "where it was"
    ]
    assert world.base_backups.taken == 2


@attrs.define
class LosingServer(FakeReplicationServer):
    """Invalidates the slot at the ``lose_at``-th look at it, as max_slot_wal_keep_size does."""

    lose_at: int = 3
    looks: int = 0

    def slot(self, database: Database, name: str) -> SlotState | None:
        found = super().slot(database, name)
        self.looks += 1
        if self.looks == self.lose_at and found is not None:
            found = attrs.evolve(found, wal_status="lost", restart_lsn=None)
            self.slots[name] = found
        return found


def test_a_slot_the_server_invalidates_ends_the_stream_and_a_new_one_begins() -> None:
    world = World(server=LosingServer())

    world.run(120)

    newest, _ = world.streams()
    assert newest.why.value == "slot lost"
    assert ("failure", None, f"WAL receiver stopped: the server invalidated slot {SLOT}") in (
        world.records()
    )
    assert world.server.actions[-2:] == [f"drop slot {SLOT}", f"create slot {SLOT}"]
    assert world.base_backups.taken == 2  # one per stream
    [told] = [r for r in world.records() if r[1] and r[1].startswith("new stream")]
    assert told[0] == "failure" and told[1] == told[2]  # WAL was lost: told as a failure
    assert "(slot lost): the window of stream" in told[1]


def test_a_failed_base_backup_is_tried_again_minutes_later_not_at_each_poll(
    world: World,
) -> None:
    world.base_backups.failing = ToolError("pg_basebackup failed: disk full")

    world.run(BASE_BACKUP_RETRY.total_seconds() * 2 + 30)

    assert world.base_backups.taken == 3  # at once, after 5 minutes, after 10


def test_a_partial_cut_short_is_emptied_before_the_receiver_starts_again(world: World) -> None:
    world.run(10)
    world.archive.emptied = "000000010000000000000004.partial"

    world.run(10)

    assert world.archive.repaired == [world.streams()[0].name]
    assert len(world.streams()) == 1
