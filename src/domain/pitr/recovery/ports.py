"""What a recovery needs: a new data directory to write, WAL to read, and a scratch
server to prove it with."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import PurePath
from typing import Protocol

from pg_backup_manager.domain.pitr.model import (
    BaseBackup,
    Lsn,
    Stream,
    WalScan,
)
from pg_backup_manager.domain.pitr.recovery.plan import WalCopy


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
