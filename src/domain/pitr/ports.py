"""What point-in-time recovery needs from the outside: the server's replication
protocol, PostgreSQL's physical backup tools and the directories of streams
(Protocols named for their role)."""

from __future__ import annotations

from typing import Protocol

from pg_backup_manager.domain.model import Database
from pg_backup_manager.domain.pitr.model import ServerIdentity, SlotState


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
