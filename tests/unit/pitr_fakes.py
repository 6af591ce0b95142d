"""Fakes of the WAL receiver's ports: a receiver that ends as a script says, and the stream
directories it writes (its states: ``fakes.FakeReceiverStates``)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from datetime import datetime, timedelta
from pathlib import PurePath
from typing import Any, TypeVar

import attrs

from pg_backup_manager.domain.model import Database
from pg_backup_manager.domain.pitr.model import CaughtUp, Segment, Stream

from .fakes import FakeClock, FakeReplicationServer

T = TypeVar("T")


@attrs.define
class FakeReceiving:
    """One receiver run: ``ends`` says, poll after poll, None (runs on) or why it ended;
    when the script is over it runs on. Each poll lets ``timeout`` pass on ``clock``."""

    clock: FakeClock
    ends: list[str | None]
    polls: int = 0

    def ended(self, timeout: float) -> str | None:
        self.polls += 1
        said = self.ends.pop(0) if self.ends else None
        if said is None:
            self.clock.sleep(timeout)
        return said


@attrs.define
class FakeWalReceiver:
    """Starts a :class:`FakeReceiving` per run from ``scripts`` (then ones that run on);
    ``started`` records (identifier, directory, slot). The server sees the slot in use
    while a receiver runs, as a real one does."""

    clock: FakeClock
    server: FakeReplicationServer
    scripts: list[list[str | None]] = attrs.field(factory=list)
    started: list[tuple[str, PurePath, str]] = attrs.field(factory=list)

    @contextlib.contextmanager
    def receiving(
        self, database: Database, directory: PurePath, slot: str
    ) -> Iterator[FakeReceiving]:
        self.started.append((database.identifier, directory, slot))
        if slot in self.server.slots:
            self.server.use(slot)
        try:
            yield FakeReceiving(clock=self.clock, ends=self.scripts.pop(0) if self.scripts else [])
        finally:
            if slot in self.server.slots:
                self.server.use(slot, active=False)


@attrs.define
class FakeWalArchive:
    """WAL directories by stream name; ``sealing`` gives, seal after seal, the segments
    each seal finds complete (then none); ``emptied`` names a partial to repair."""

    sealing: list[list[Segment]] = attrs.field(factory=list)
    emptied: str | None = None
    repaired: list[str] = attrs.field(factory=list)
    proofs: list[CaughtUp] = attrs.field(factory=list)

    def wal_directory(self, identifier: str, stream: Stream) -> PurePath:
        return PurePath("/backup/data") / identifier / "pitr/streams" / stream.name / "wal"

    def seal(self, identifier: str, stream: Stream) -> list[Segment]:
        return self.sealing.pop(0) if self.sealing else []

    def record_caught_up(self, identifier: str, stream: Stream, caught: CaughtUp) -> None:
        self.proofs.append(caught)

    def repair_partial(self, identifier: str, stream: Stream) -> str | None:
        self.repaired.append(stream.name)
        emptied, self.emptied = self.emptied, None
        return emptied


def after(clock: FakeClock, seconds: float) -> Stop:
    """Return a ``stopping`` that turns true once ``seconds`` have passed on ``clock``."""
    return Stop(clock=clock, at=clock.now() + timedelta(seconds=seconds))


@attrs.define
class Stop:
    clock: FakeClock
    at: datetime

    def __call__(self) -> bool:
        return self.clock.now() >= self.at


class RightAway(Executor):
    """Runs what is submitted at once, in the caller's thread: the supervisor's base
    backups in step with its fake clock."""

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        done: Future[T] = Future()
        done.set_result(fn(*args, **kwargs))
        return done
