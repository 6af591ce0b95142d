"""What point-in-time recovery needs from the outside: the server's replication
protocol, PostgreSQL's physical backup tools and the directories of streams
(Protocols named for their role)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import PurePath
from typing import Protocol

from pg_backup_manager.domain.model import Database
from pg_backup_manager.domain.pitr.model import (
    BackupFacts,
    BaseBackup,
    DamagedStream,
    Segment,
    ServerIdentity,
    SlotState,
    Stream,
    StreamContents,
)


class ReplicationServer(Protocol):
    """The server behind a service, as a replication client sees it."""

    def identify(self, database: Database) -> ServerIdentity:
        """Open a replication connection and return what the server says of itself.

        Raises:
            ReplicationRefusedError: the server refused; its message says in one
                line what is missing (the ``REPLICATION`` attribute, a
                ``pg_hba.conf`` line, ``max_wal_senders``, ``wal_level``).
            ToolError: the server cannot be reached at all.
        """

    def slot(self, database: Database, name: str) -> SlotState | None:
        """Return the row of the physical slot ``name``, or None when there is none.

        Raises:
            ToolError: the server cannot be asked.
        """

    def create_slot(self, database: Database, name: str) -> None:
        """Create the physical slot ``name``, reserving WAL from now on.

        Raises:
            ReplicationRefusedError: slots are off or all in use, or the user may
                not create one.
            ToolError: the server cannot be asked.
        """

    def drop_slot(self, database: Database, name: str) -> None:
        """Drop the slot ``name`` if it exists (a lost one, before a new one).

        Raises:
            ToolError: the server cannot be asked, or the slot is in use.
        """


class PitrStore(Protocol):
    """The streams of each service, with their base backups and WAL, as committed.

    What is being written (a base backup in staging, a stream being created) and
    whatever is not named as ours (hidden names, a base directory without its
    facts, facts without their directory) is never returned.
    """

    def streams(self, identifier: str) -> list[Stream]:
        """Return the streams of ``identifier``, newest first (none: an empty list): the
        first is the live one. A damaged stream (see :meth:`damaged`) is never among them.

        Raises:
            ControllerError: the directory cannot be read.
        """

    def damaged(self, identifier: str) -> list[DamagedStream]:
        """Return the damaged streams of ``identifier``, newest first: directories named
        as streams whose ``STREAM.json`` is missing, unreadable or not a stream's facts.
        Nothing may use or delete them (a person must look).

        Raises:
            ControllerError: the directory cannot be read.
        """

    def open_stream(self, identifier: str, stream: Stream) -> Stream:
        """Create ``stream`` (its directory, ``wal/``, ``base/`` and ``STREAM.json``,
        all durable before it takes its name); return it as created: its name moved
        on a second at a time past the names taken.

        Raises:
            ControllerError: it cannot be written (a full device says so).
        """

    def base_backups(self, identifier: str, stream: Stream) -> list[BaseBackup]:
        """Return the committed base backups of ``stream``, newest first.

        Raises:
            ControllerError: the directory or a backup's facts cannot be read.
        """

    def segments(self, identifier: str, stream: Stream) -> list[Segment]:
        """Return the WAL segments received in ``stream``, oldest first: complete ones
        and the ``.partial`` one being written, with size and time; other names
        (``.history``, checksums, temporary files) are left out.

        Raises:
            ControllerError: the directory cannot be read.
        """

    def contents(self, identifier: str, stream: Stream) -> StreamContents:
        """Return what ``stream`` holds: its base backups, its segments, and the newest
        proof of how far it is complete in time (what windows are made of).

        Raises:
            ControllerError: the directory cannot be read.
        """


class BaseDraft(Protocol):
    """A base backup being written: ``path`` is the empty directory it goes into."""

    @property
    def path(self) -> PurePath:
        """Return the directory ``pg_basebackup`` writes into."""

    def commit(self, stream: Stream, backup: BaseBackup) -> BaseBackup:
        """Make the backup durable, move it into ``stream`` under its name, then write
        its facts: from then on, and only then, it counts. Return it with its size.

        Raises:
            ControllerError: it cannot be written or named (nothing is listed).
        """


class BaseStaging(Protocol):
    """Where base backups are written before they count."""

    def begin(self, identifier: str, name: str) -> AbstractContextManager[BaseDraft]:
        """Yield a draft of base backup ``name`` of ``identifier``, first removing the
        staging left by processes that died; whatever happens, no staging is left.

        Raises:
            ControllerError: the staging cannot be made; a write that failed for
                lack of space says "no space left".
        """


class BaseBackupTaker(Protocol):
    """``pg_basebackup``, and what the backup it wrote says about itself."""

    def take(self, database: Database, into: PurePath, *, label: str) -> BackupFacts:
        """Write a base backup of ``database``'s server into the empty directory
        ``into`` (plain format, its WAL streamed, a manifest with SHA-256 checksums);
        return the facts read from it.

        Raises:
            ToolError: the tool failed; the message ends with its last words.
            ControllerError: what it wrote cannot be read as a base backup.
        """


class BackupVerifier(Protocol):
    """``pg_verifybackup`` of the backup's own major version."""

    def verify(self, directory: PurePath, server_major: int) -> None:
        """Check the base backup in ``directory`` against its manifest and parse its WAL.

        Raises:
            IntegrityError: it failed the check; it must not count.
            ToolError: the check could not run (that major's tool is missing).
        """


class PitrPruner(Protocol):
    """Deletes what point-in-time retention lets go, so that nothing half-deleted is
    ever listed (each method is durable before it returns)."""

    def delete_base_backup(self, identifier: str, stream: Stream, backup: BaseBackup) -> None:
        """Delete ``backup`` of ``stream``: its facts first (from then on it is not
        listed), then its directory.

        Raises:
            ControllerError: it cannot be deleted; it is listed still unless its facts went.
        """

    def delete_segment(self, identifier: str, stream: Stream, segment: Segment) -> None:
        """Delete ``segment`` of ``stream``, then its ``.sha256`` checksum.

        Raises:
            ControllerError: it cannot be deleted.
        """

    def delete_stream(self, identifier: str, stream: Stream) -> None:
        """Delete ``stream`` whole: it leaves the listing at once (hidden, then removed).

        Raises:
            ControllerError: it cannot be deleted; it is listed still unless it was hidden.
        """
