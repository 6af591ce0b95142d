"""What point-in-time recovery needs from the outside: the server's replication
protocol, PostgreSQL's physical backup tools and the directories of streams
(Protocols named for their role)."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import PurePath
from typing import Protocol

from pg_backup_manager.domain.model import Database
from pg_backup_manager.domain.pitr.model import (
    BaseBackup,
    Lsn,
    ReceiverState,
    Segment,
    ServerIdentity,
    SlotState,
    Stream,
    WalScan,
)
from pg_backup_manager.domain.pitr.recovery_plan import WalCopy


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


class Receiving(Protocol):
    """A running WAL receiver."""

    def ended(self, timeout: float) -> str | None:
        """Wait up to ``timeout`` seconds; return None while it runs, else why it
        ended, in one line."""


class WalReceiver(Protocol):
    """Streams a server's WAL through a slot into a directory."""

    def receiving(
        self, database: Database, directory: PurePath, slot: str
    ) -> AbstractContextManager[Receiving]:
        """Receive ``database``'s WAL through ``slot`` into ``directory`` for the block,
        from where the directory's newest segment ends (else the slot's position);
        stop cleanly when the block ends.

        Raises:
            ToolError: the receiver cannot be started.
        """


class WalArchive(Protocol):
    """The WAL of each stream, as the receiver leaves it."""

    def wal_directory(self, identifier: str, stream: Stream) -> PurePath:
        """Return the directory the receiver of ``stream`` writes into."""

    def seal(self, identifier: str, stream: Stream) -> list[Segment]:
        """Record the SHA-256 of each complete segment of ``stream`` that has none yet,
        durably beside it; return those segments (oldest first).

        Raises:
            ControllerError: a checksum cannot be written (a full disk).
        """

    def repair_partial(self, identifier: str, stream: Stream) -> str | None:
        """Empty a partial segment that has neither the size of a segment nor none (a
        receiver stopped while creating it: it holds nothing received), so that the
        receiver can start again; return its name when one was emptied."""


class ReceiverStates(Protocol):
    """Where the supervisor of each service leaves the receiver's state for ``status``,
    ``health`` and the metrics."""

    def write(self, identifier: str, state: ReceiverState) -> None:
        """Replace the state of ``identifier``'s receiver, atomically; never raise."""

    def read(self, identifier: str) -> ReceiverState | None:
        """Return the state last written for ``identifier``, None when there is none
        or it cannot be read."""


class RecoveryDraft(Protocol):
    """A data directory being written for a recovery."""

    @property
    def wal_directory(self) -> PurePath:
        """Return the directory in it that holds the WAL to replay."""

    def copy_base(self, stream: Stream, base: BaseBackup) -> None:
        """Copy the committed base backup ``base`` of ``stream`` into it."""

    def copy_wal(self, stream: Stream, wal: Sequence[WalCopy]) -> None:
        """Copy each segment of ``wal`` of ``stream`` into :attr:`wal_directory`."""

    def configure(self, settings: Sequence[str]) -> None:
        """Append ``settings`` to its ``postgresql.auto.conf``; ask for recovery."""


class RecoveryWriting(Protocol):
    """Where recoveries are written: new data directories."""

    def writing(self, identifier: str, into: PurePath) -> AbstractContextManager[RecoveryDraft]:
        """Yield a draft of a data directory at ``into`` (empty or missing) for the
        block: durable when the block ends well, removed when it raises.

        Raises:
            ConfigurationError: ``into`` holds anything or cannot be a directory.
            ControllerError: it cannot be written.
        """


class RecoveryScratch(Protocol):
    """Where ``verify --pitr`` writes its recoveries."""

    def scratch(self, identifier: str) -> AbstractContextManager[PurePath]:
        """Yield a path for a scratch data directory of ``identifier`` (not created),
        removed with everything in it when the block ends; scratch directories of
        processes that died are removed first."""


class WalInspector(Protocol):
    """Reads what WAL holds."""

    def scan(
        self,
        directory: PurePath,
        *,
        timeline: int,
        start_lsn: Lsn,
        server_major: int,
        commits_only: bool = False,
    ) -> WalScan:
        """Return the newest commit and the last record in ``directory``'s WAL from
        ``start_lsn`` on (``commits_only``: read the commits alone, faster).

        Raises:
            ToolError: the WAL cannot be read.
        """


class ScratchServer(Protocol):
    """A server running on a recovered scratch data directory."""

    def promoted(self, *, timeout: float) -> Lsn:
        """Wait until recovery ended and the server promoted; return the end of the
        last record it replayed.

        Raises:
            IntegrityError: it stopped, or did not promote within ``timeout`` seconds.
        """

    def query(self, sql: str) -> str:
        """Return the one value ``sql`` answers in the service's database.

        Raises:
            ToolError: it could not be asked.
        """


class ScratchServers(Protocol):
    """Servers of each major version, started on scratch data directories."""

    def running(
        self, data_dir: PurePath, *, major: int, user: str, dbname: str
    ) -> AbstractContextManager[ScratchServer]:
        """Run a server of ``major`` on ``data_dir`` for the block, stopped at its end.

        Raises:
            ToolError: that major's server is not available.
        """
