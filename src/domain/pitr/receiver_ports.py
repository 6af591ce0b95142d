"""What the WAL receiver's supervisor needs: a receiver of WAL, the stream directories it
writes, and a place for its state."""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import PurePath
from typing import Protocol

from pg_backup_manager.domain.model import Database
from pg_backup_manager.domain.pitr.model import (
    CaughtUp,
    ReceiverState,
    Segment,
    Stream,
)


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

    def record_caught_up(self, identifier: str, stream: Stream, caught: CaughtUp) -> None:
        """Keep ``caught`` as the newest proof of how far ``stream`` is complete in time,
        durably, in the stream (a copy of the stream carries it).

        Raises:
            ControllerError: it cannot be written (a full disk).
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
