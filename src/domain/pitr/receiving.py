"""Keeping one service's WAL received: ``controller start`` runs one supervisor per service
with ``<SERVICE>_WAL_ARCHIVE=true``, in a thread of its own, beside the scheduled dumps.

The supervisor asks the server who it is, makes sure its slot exists, picks the
stream to go on with (or begins a new one, and says why), and keeps a receiver
running into it: restarted with backoff when it ends, every start and every new
failure recorded in the history and told. While it runs it checksums each
completed segment, watches the slot and takes the base backups the stream needs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from datetime import datetime

import attrs

from pg_backup_manager.domain.errors import ControllerError, one_line
from pg_backup_manager.domain.history import Outcome
from pg_backup_manager.domain.model import Database
from pg_backup_manager.domain.pitr.basebackup import BaseBackupResult
from pg_backup_manager.domain.pitr.model import (
    CONTROLLER_STOPPED,
    RECEIVER_STARTED,
    ReceiverCondition,
    Stream,
    StreamStart,
)
from pg_backup_manager.domain.pitr.ports import PitrStore, ReplicationServer
from pg_backup_manager.domain.pitr.receiver_ports import (
    ReceiverStates,
    Receiving,
    WalArchive,
    WalReceiver,
)
from pg_backup_manager.domain.pitr.supervision import (
    BASE_BACKUP_RETRY,
    BASE_BACKUP_SETTLE,
    POLL_SECONDS,
    SLOT_CHECK_EVERY,
    STALL_LIMIT,
    Backoff,
    Watch,
    nap,
    new_stream_needed,
    stream_of,
)
from pg_backup_manager.domain.pitr.windows import stream_windows
from pg_backup_manager.domain.ports import Clock, RunRecorder

log = logging.getLogger("controller")


@attrs.frozen(kw_only=True)
class Supervisor:
    """Keeps the WAL of one service received, until ``stopping`` says so."""

    replication: ReplicationServer
    store: PitrStore
    archive: WalArchive
    receiver: WalReceiver
    states: ReceiverStates
    run_log: RunRecorder
    clock: Clock
    # Takes a base backup of the service now (recorded, never raising), and says when
    # the next scheduled one is due after a moment.
    take_base_backup: Callable[[Database], BaseBackupResult]
    next_base_backup: Callable[[datetime], datetime]
    # Where each service's base backups run, one at a time: a thread of their own.
    base_backup_runner: Callable[[str], Executor] = lambda name: ThreadPoolExecutor(
        max_workers=1, thread_name_prefix=name
    )

    def run(self, database: Database, *, stopping: Callable[[], bool]) -> None:
        """Supervise ``database``'s receiver until ``stopping()`` is true (checked at
        least every :data:`POLL_SECONDS`). Never raises a ControllerError."""
        with self.base_backup_runner(f"base-backup-{database.identifier}") as pool:
            watch = Watch(database=database, backoff=Backoff(), pool=pool)
            while not stopping():
                up_since: datetime | None = None
                try:
                    stream = self._stream(watch)
                    directory = self.archive.wal_directory(database.identifier, stream)
                    with self.receiver.receiving(database, directory, watch.slot) as receiving:
                        up_since = self.clock.now()
                        cause = self._watch(watch, stream, receiving, stopping)
                except ControllerError as error:
                    cause = one_line(error)
                if cause is None or stopping():
                    break
                self._failed(watch, cause)
                wait = watch.backoff.after_failure(up_since=up_since, now=self.clock.now())
                nap(self.clock, wait.total_seconds(), stopping, step=POLL_SECONDS)
            watch.since = self.clock.now()
            self._write_state(watch, ReceiverCondition.DOWN, error=CONTROLLER_STOPPED)

    def _stream(self, watch: Watch) -> Stream:
        database = watch.database
        identity = self.replication.identify(database)
        slot = watch.saw(self.replication.slot(database, watch.slot), self.clock.now())
        streams = self.store.streams(database.identifier)  # newest first
        newest = streams[0] if streams else None
        received = newest is not None and bool(self.store.segments(database.identifier, newest))
        why = new_stream_needed(newest, identity, slot, received=received)
        if slot is not None and (slot.wal_status == "lost" or why is not None):
            # A slot that may have let WAL go is of no use: a new one keeps from now.
            self.replication.drop_slot(database, watch.slot)
            slot = None
        if slot is None:
            self.replication.create_slot(database, watch.slot)
        if why is None:
            assert newest is not None
            repaired = self.archive.repair_partial(database.identifier, newest)
            if repaired is not None:
                log.warning(
                    "%s: emptied the unfinished partial segment %s", database.identifier, repaired
                )
            return newest
        new = stream_of(identity, slot=watch.slot, why=why, at=self.clock.now())
        stream = self.store.open_stream(database.identifier, new)
        if newest is not None:
            note = (
                f"new stream {stream.name} ({why.value}): the window of stream "
                f"{newest.name} ends where it was"
            )
            log.warning("%s: %s", database.identifier, note)
            # A lost slot lost WAL: people are told as of a failure. A new timeline or
            # server is what a recovery or a move does: recorded, told with the rest.
            lost = why is StreamStart.SLOT_LOST
            failed = {"error": note} if lost else {}
            outcome = Outcome.FAILURE if lost else Outcome.SUCCESS
            self._record(watch, outcome, stream=stream.name, note=note, **failed)
        return stream

    def _watch(
        self, watch: Watch, stream: Stream, receiving: Receiving, stopping: Callable[[], bool]
    ) -> str | None:
        """Return why the receiver ended (None: asked to stop)."""
        database = watch.database
        watch.stalled_since = watch.flushed = None  # a new receiver: judged afresh
        slot_checked: datetime | None = None
        base_due = self.next_base_backup(self.clock.now())
        base_look_at = self.clock.now()
        running = False
        while not stopping():
            ended = receiving.ended(POLL_SECONDS)
            if ended is not None:
                return ended
            if not running:  # one that ends at once (refused, slot in use) never started
                running = True
                self._started(watch, stream, self.clock.now())
            sealed = self.archive.seal(database.identifier, stream)
            if any(segment.timeline != stream.timeline for segment in sealed):
                return f"the server switched to another timeline than {stream.timeline}"
            now = self.clock.now()
            if slot_checked is None or now - slot_checked >= SLOT_CHECK_EVERY:
                slot_checked = now
                trouble = self._check_slot(watch, stream, now)
                if trouble is not None:
                    return trouble
            taking = watch.taking
            if taking is not None and taking.done():
                watch.taking = None
                result = taking.result()
                base_due = self._taken(watch, result)
                if result.error is not None:
                    base_look_at = self.clock.now() + BASE_BACKUP_RETRY
                elif result.stream is not None and result.stream.name == stream.name:
                    # Its end must reach the receiver before the stream has a window.
                    base_look_at = self.clock.now() + BASE_BACKUP_SETTLE
            elif taking is None and now >= base_look_at:
                base_look_at = now + SLOT_CHECK_EVERY
                if now >= base_due or not self._has_window(database, stream):
                    # In a thread: the receiver is watched, its segments checksummed and
                    # its slot read all the while a base backup of hours runs.
                    watch.taking = watch.pool.submit(self.take_base_backup, database)
        return None

    def _check_slot(self, watch: Watch, stream: Stream, now: datetime) -> str | None:
        """Read the slot: record what it proves received, and return why the receiver
        must be restarted (its slot gone, or it stalled), or None."""
        slot = watch.saw(self.replication.slot(watch.database, watch.slot), now)
        if slot is None or slot.wal_status == "lost":
            done = "dropped" if slot is None else "invalidated"
            return f"the server {done} slot {watch.slot}"
        caught = watch.progress(slot)
        if caught is not None:
            self.archive.record_caught_up(watch.database.identifier, stream, caught)
        stalled = watch.stalled(slot, now)
        self._write_state(watch, ReceiverCondition.RECEIVING, stream=stream)
        if stalled is not None and stalled >= STALL_LIMIT:
            seconds = f"{stalled.total_seconds():.0f} s"
            if not slot.active:
                return f"the server saw no connection from the receiver for {seconds} (hung?)"
            return f"the receiver flushed nothing for {seconds} while the server wrote WAL (hung?)"
        return None

    def _has_window(self, database: Database, stream: Stream) -> bool:
        """Return whether ``stream`` can recover to some time: a base backup with the
        WAL from its start on. Until then one is taken (again after a failure)."""
        return bool(stream_windows(self.store.contents(database.identifier, stream)))

    def _taken(self, watch: Watch, result: BaseBackupResult) -> datetime:
        """Log a base backup's end; return when the next one is due."""
        identifier = watch.database.identifier
        if result.error is not None:  # recorded and told by the base backup itself
            log.error("%s: base backup failed: %s", identifier, one_line(result.error))
            return self.clock.now() + BASE_BACKUP_RETRY
        log.info("%s: base backup %s taken", identifier, result.backup and result.backup.name)
        return self.next_base_backup(self.clock.now())

    def _started(self, watch: Watch, stream: Stream, now: datetime) -> None:
        """Record and tell a receiver that runs, the first or after a failure."""
        log.info("%s: receiving WAL into stream %s", watch.database.identifier, stream.name)
        if watch.trouble is not None or not watch.told_started:
            self._record(watch, Outcome.SUCCESS, stream=stream.name, note=RECEIVER_STARTED)
        watch.trouble = None
        watch.told_started = True
        watch.since = now
        self._write_state(watch, ReceiverCondition.RECEIVING, stream=stream)

    def _failed(self, watch: Watch, cause: str) -> None:
        log.error("%s: WAL receiver stopped: %s", watch.database.identifier, cause)
        if watch.trouble != cause:
            self._record(watch, Outcome.FAILURE, error=f"WAL receiver stopped: {cause}")
            if watch.trouble is None:
                watch.since = self.clock.now()
        watch.trouble = cause
        self._write_state(watch, ReceiverCondition.DOWN, error=cause)

    def _record(self, watch: Watch, outcome: Outcome, **fields: str | None) -> None:
        record = watch.record(outcome, self.clock.now(), **fields)
        self.run_log.record(watch.database.identifier, record)

    def _write_state(
        self,
        watch: Watch,
        condition: ReceiverCondition,
        *,
        stream: Stream | None = None,
        error: str | None = None,
    ) -> None:
        state = watch.state(condition, self.clock.now(), stream=stream, error=error)
        self.states.write(watch.database.identifier, state)
