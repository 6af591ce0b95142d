"""The receiver supervisor's decisions, as pure functions: which stream to go on with,
and how long to wait before trying again."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, Future
from datetime import datetime, timedelta

import attrs

from pg_backup_manager.domain.history import Operation, Outcome, RunRecord
from pg_backup_manager.domain.model import Database
from pg_backup_manager.domain.pitr.basebackup import BaseBackupResult
from pg_backup_manager.domain.pitr.model import (
    CaughtUp,
    Lsn,
    ReceiverCondition,
    ReceiverState,
    ServerIdentity,
    SlotState,
    Stream,
    StreamStart,
)
from pg_backup_manager.domain.pitr.naming import slot_name, utc_name
from pg_backup_manager.domain.ports import Clock

# A commit takes its time just before its record goes into the WAL: a proof that the
# WAL up to a point was received covers the commits made a margin before it.
COMMIT_MARGIN = timedelta(seconds=1)

# How often the receiver is looked at (its end, completed segments), and how often
# the server is asked about the slot (one query: cheap, but not every poll).
POLL_SECONDS = 2.0
SLOT_CHECK_EVERY = timedelta(seconds=10)
# A receiver that has not flushed anything new this long while its server wrote WAL
# (or that the server sees no connection from) is stopped and started again.
STALL_LIMIT = timedelta(seconds=60)
# A base backup that failed is tried again this much later (the receiver runs on).
BASE_BACKUP_RETRY = timedelta(minutes=5)
# A base backup that counts is given this long to show as a window before another one.
BASE_BACKUP_SETTLE = timedelta(seconds=30)

# Slot states in which the server has removed, or may remove at any time, WAL the
# slot was meant to keep: the stream cannot be trusted to continue without a gap.
_LOST = frozenset({"lost"})


def new_stream_needed(
    newest: Stream | None, identity: ServerIdentity, slot: SlotState | None, *, received: bool
) -> StreamStart | None:
    """Return why a new stream must begin, or None to go on with ``newest``.

    A stream is one history: the same system identifier (else the service now
    points at another cluster), the same timeline (else a recovery was promoted,
    or a standby took over) and the same slot, still holding the WAL from where
    the stream stopped (a slot that is missing, or that the server invalidated,
    may have let WAL go that the stream never received). A stream that has
    ``received`` nothing yet has nothing to lose: it goes on with a new slot.
    """
    if newest is None:
        return StreamStart.FIRST
    if newest.system_identifier != identity.system_identifier:
        return StreamStart.NEW_SERVER
    if newest.timeline != identity.timeline:
        return StreamStart.NEW_TIMELINE
    if received and (slot is None or slot.wal_status in _LOST):
        return StreamStart.SLOT_LOST
    return None


@attrs.define
class Backoff:
    """Waits between restarts of a receiver: 1, 2, 4 ... ``longest`` seconds, back to
    the shortest once a receiver has run for ``steady`` without failing."""

    shortest: timedelta = timedelta(seconds=1)
    longest: timedelta = timedelta(seconds=60)
    steady: timedelta = timedelta(minutes=10)
    _next: timedelta | None = None

    def after_failure(self, *, up_since: datetime | None, now: datetime) -> timedelta:
        """Return how long to wait after a failure; ``up_since`` is when the receiver
        that failed started (None: it never started)."""
        if up_since is not None and now - up_since >= self.steady:
            self._next = None
        wait = self._next or self.shortest
        self._next = min(wait * 2, self.longest)
        return wait


@attrs.define
class Watch:
    """What one supervisor remembers between receivers."""

    database: Database
    backoff: Backoff
    # Where base backups run, one at a time, while the receiver is watched.
    pool: Executor
    taking: Future[BaseBackupResult] | None = None
    trouble: str | None = None
    told_started: bool = False
    since: datetime | None = None
    stream: str | None = None
    # The slot as last read on the server, and when (the state shows it, even down).
    seen: SlotState | None = None
    seen_at: datetime | None = None
    # Where the server's WAL was when, not yet proven received; the newest proof's time.
    pending: CaughtUp | None = None
    caught_up_at: datetime | None = None
    # Since when the receiver has not kept up (None: it does), and its flush position.
    stalled_since: datetime | None = None
    flushed: Lsn | None = None

    @property
    def slot(self) -> str:
        return slot_name(self.database.identifier)

    def saw(self, slot: SlotState | None, at: datetime) -> SlotState | None:
        """Remember ``slot`` as read at ``at``; return it."""
        self.seen, self.seen_at = slot, at
        return slot

    def record(self, outcome: Outcome, now: datetime, **fields: str | None) -> RunRecord:
        """Return the history's record of a start, a stop or a new stream, at ``now``."""
        return RunRecord(
            operation=Operation.WAL_RECEIVER,
            started_at=now,
            finished_at=now,
            outcome=outcome,
            backup=fields.get("stream"),
            error=fields.get("error"),
            note=fields.get("note"),
        )

    def state(
        self,
        condition: ReceiverCondition,
        now: datetime,
        *,
        stream: Stream | None = None,
        error: str | None = None,
    ) -> ReceiverState:
        """Return the receiver's state as it stands (``stream``: the one it writes now)."""
        if stream is not None:
            self.stream = stream.name
        return ReceiverState(
            condition=condition,
            since=self.since or now,
            stream=self.stream,
            error=error,
            slot=self.seen,
            checked_at=self.seen_at,
            caught_up_at=self.caught_up_at,
        )

    def progress(self, slot: SlotState) -> CaughtUp | None:
        """Return what ``slot`` proves newly received, or None.

        The slot's ``restart_lsn`` is where the receiver has flushed. When it has
        reached where the server's WAL was at an earlier read (or at this one), every
        commit made before that read is received: a proof dated a margin earlier, for
        a commit that took its time just before its record went in.
        """
        if slot.server_time is None or slot.insert_lsn is None or slot.restart_lsn is None:
            return None
        proof = None
        if slot.restart_lsn >= slot.insert_lsn:
            proof = CaughtUp(at=slot.server_time - COMMIT_MARGIN, lsn=slot.insert_lsn)
        elif self.pending is not None and slot.restart_lsn >= self.pending.lsn:
            proof = CaughtUp(at=self.pending.at - COMMIT_MARGIN, lsn=self.pending.lsn)
        if proof is not None or self.pending is None:  # a pending read waits for its proof
            self.pending = CaughtUp(at=slot.server_time, lsn=slot.insert_lsn)
        if proof is not None:
            self.caught_up_at = proof.at
        return proof

    def stalled(self, slot: SlotState, now: datetime) -> timedelta | None:
        """Return how long the receiver has not kept up with ``slot``'s server (no
        connection, or no flush while the server wrote), or None while it does."""
        behind = (
            slot.restart_lsn is not None
            and slot.insert_lsn is not None
            and (slot.restart_lsn < slot.insert_lsn)
        )
        moved = slot.restart_lsn != self.flushed
        self.flushed = slot.restart_lsn
        if slot.active and (not behind or moved):
            self.stalled_since = None
            return None
        self.stalled_since = self.stalled_since or now
        return now - self.stalled_since


def stream_of(identity: ServerIdentity, *, slot: str, why: StreamStart, at: datetime) -> Stream:
    """Return the stream that begins at ``at`` for the server of ``identity``."""
    return Stream(
        name=utc_name(at),
        started_at=at,
        system_identifier=identity.system_identifier,
        timeline=identity.timeline,
        wal_segment_size=identity.wal_segment_size,
        server_major=identity.server_major,
        slot=slot,
        why=why,
    )


def nap(clock: Clock, seconds: float, stopping: Callable[[], bool], *, step: float) -> None:
    """Let ``seconds`` pass in steps of ``step``, or less if ``stopping()`` turns true."""
    while seconds > 0 and not stopping():
        clock.sleep(min(seconds, step))
        seconds -= step
