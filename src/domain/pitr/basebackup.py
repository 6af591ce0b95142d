"""``basebackup``: a new base backup of each service, checked by ``pg_verifybackup``
before it counts, in the stream of the history it belongs to.

One base backup, under the service's PITR lock (dumps go on meanwhile):

1. staged: ``pg_basebackup`` writes into a staging directory, whose leftovers from
   processes that died are removed first;
2. read: its system identifier, timeline, WAL range and major version, from the
   backup itself;
3. checked: ``pg_verifybackup`` of its major version (manifest, checksums, its WAL);
   a failure is an IntegrityError and nothing counts;
4. placed: in the newest stream when that stream has the backup's system identifier
   and timeline, else in a new stream that says why it began (:func:`new_stream_why`);
5. committed: made durable, moved under its name, its facts written last;
6. recorded in the service's history (operation ``basebackup``), failures told.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import attrs

from pg_backup_manager.domain.errors import ControllerError, worst_exit_code
from pg_backup_manager.domain.history import Operation
from pg_backup_manager.domain.model import Database
from pg_backup_manager.domain.pitr.model import (
    BackupFacts,
    BaseBackup,
    Stream,
    StreamStart,
)
from pg_backup_manager.domain.pitr.naming import slot_name, utc_name
from pg_backup_manager.domain.pitr.ports import (
    BackupVerifier,
    BaseBackupTaker,
    BaseStaging,
    PitrStore,
)
from pg_backup_manager.domain.ports import Clock, Locks, RunRecorder
from pg_backup_manager.domain.recording import recorded

LABEL_PREFIX = "pg_backup_manager-"


@attrs.frozen(kw_only=True)
class BaseBackupResult:
    """What happened to one service: its new base backup and the stream it went into
    (``new_stream``: begun for it), or why there is none."""

    database: Database
    backup: BaseBackup | None = None
    stream: Stream | None = None
    new_stream: bool = False
    seconds: float = 0.0
    error: ControllerError | None = None


@attrs.frozen(kw_only=True)
class BaseBackupReport:
    """The results of one ``basebackup``, in the order asked."""

    results: tuple[BaseBackupResult, ...]

    @property
    def exit_code(self) -> int:
        """Return 0, or the exit code of the worst failure (integrity 3 first)."""
        return worst_exit_code(result.error for result in self.results)


def new_stream_why(streams: Sequence[Stream], facts: BackupFacts) -> StreamStart | None:
    """Return why a base backup with ``facts`` needs a new stream, or None when it
    belongs to the newest of ``streams`` (newest first).

    Only the newest stream can take it: an older one ended when a newer began, and
    a backup put there would seem to extend a history that was cut.
    """
    if not streams:
        return StreamStart.FIRST
    newest = streams[0]
    if newest.system_identifier != facts.system_identifier:
        return StreamStart.NEW_SERVER
    if newest.timeline != facts.timeline:
        return StreamStart.NEW_TIMELINE
    return None


@attrs.frozen(kw_only=True)
class TakeBaseBackups:
    """Takes, checks and commits base backups, one service at a time (each under its
    PITR ``locks``); every failure is in the report, none raised."""

    store: PitrStore
    staging: BaseStaging
    taker: BaseBackupTaker
    verifier: BackupVerifier
    locks: Locks
    clock: Clock
    run_log: RunRecorder

    def __call__(self, databases: Sequence[Database]) -> BaseBackupReport:
        """Take a base backup of each of ``databases``; return what happened to each."""
        return BaseBackupReport(results=tuple(self.one(database) for database in databases))

    def one(self, database: Database) -> BaseBackupResult:
        """Take, check and commit one base backup of ``database``, recorded in its
        history; return it, or the error that left nothing listed."""
        started = self.clock.now()
        try:
            with recorded(
                run_log=self.run_log,
                clock=self.clock,
                identifier=database.identifier,
                operation=Operation.BASEBACKUP,
            ) as recording:
                result = self._locked(database, started)
                recording.archive = result.backup.name if result.backup else None
                return result
        except ControllerError as error:
            seconds = (self.clock.now() - started).total_seconds()
            return BaseBackupResult(database=database, error=error, seconds=seconds)

    def _locked(self, database: Database, started: datetime) -> BaseBackupResult:
        identifier = database.identifier
        with self.locks.hold(identifier):
            streams = self.store.streams(identifier)
            name = _free_name(started, self._names_taken(identifier, streams))
            with self.staging.begin(identifier, name) as draft:
                facts = self.taker.take(database, draft.path, label=LABEL_PREFIX + name)
                finished = self.clock.now()
                self.verifier.verify(draft.path, facts.server_major)
                why = new_stream_why(streams, facts)
                if why is None:
                    stream = streams[0]
                else:
                    stream = self.store.open_stream(
                        identifier, _stream(database, facts, why, started)
                    )
                backup = draft.commit(stream, _backup(name, stream, facts, started, finished))
        return BaseBackupResult(
            database=database,
            backup=backup,
            stream=stream,
            new_stream=why is not None,
            seconds=(finished - started).total_seconds(),
        )

    def _names_taken(self, identifier: str, streams: Sequence[Stream]) -> set[str]:
        return {
            backup.name
            for stream in streams
            for backup in self.store.base_backups(identifier, stream)
        }


def _free_name(at: datetime, taken: set[str]) -> str:
    """Return the name of ``at`` to the second, moved on past the names taken (two base
    backups in one second: one per second keeps names unique)."""
    at = at.replace(microsecond=0)
    while utc_name(at) in taken:
        at += timedelta(seconds=1)
    return utc_name(at)


def _stream(database: Database, facts: BackupFacts, why: StreamStart, at: datetime) -> Stream:
    return Stream(
        name=utc_name(at),
        started_at=at.replace(microsecond=0),
        system_identifier=facts.system_identifier,
        timeline=facts.timeline,
        wal_segment_size=facts.wal_segment_size,
        server_major=facts.server_major,
        slot=slot_name(database.identifier),
        why=why,
    )


def _backup(
    name: str, stream: Stream, facts: BackupFacts, started: datetime, finished: datetime
) -> BaseBackup:
    return BaseBackup(
        name=name,
        stream=stream.name,
        started_at=started,
        finished_at=finished,
        start_lsn=facts.start_lsn,
        end_lsn=facts.end_lsn,
        timeline=facts.timeline,
        server_major=facts.server_major,
        size=0,  # the staging measures it as it makes it durable
        manifest_sha256=facts.manifest_sha256,
    )
