"""What the domain needs from the world, as Protocols named for their role.

Adapters satisfy these structurally (they do not inherit from them); the
unit tests' fakes do too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import PurePath
from typing import Protocol

import attrs

from pg_backup_manager.domain.model import (
    ArchiveTable,
    Backup,
    BackupName,
    Database,
    DatabaseProperties,
    TableName,
)
from pg_backup_manager.domain.scratch import TemporaryDatabase


class Clock(Protocol):
    """The time, and a way to let it pass."""

    def now(self) -> datetime:
        """Return the current time as an aware UTC datetime."""

    def sleep(self, seconds: float) -> None:
        """Return after ``seconds``; a stop signal may interrupt it by raising."""


class BackupStore(Protocol):
    """The backup directories of the managed databases."""

    def prepare(self, identifiers: Iterable[str], *, shared: bool) -> None:
        """Create the backup directories (and the shared ones if ``shared``).

        Raises:
            ControllerError: a directory cannot be created.
        """

    def backups(self, identifier: str) -> list[Backup]:
        """Return the committed backups of ``identifier``, newest first.

        Files whose names are not backup names (temporary files of a dump in
        progress or one that died, notes, checksums) are never returned.
        """

    def write(self, identifier: str, name: BackupName, writer: Callable[[PurePath], str]) -> Backup:
        """Publish the backup that ``writer`` writes, all or nothing.

        ``writer`` is called with a temporary path in the backup directory, must
        create the complete, checked archive there and return its SHA-256. The
        file is then made durable, its checksum recorded beside it
        (``<name>.sha256``), and it is renamed to ``name``. Returns the backup.

        Raises:
            ControllerError: ``writer`` raised it, a backup called ``name``
                exists already, or the file could not be committed. Whatever
                ``writer`` raised (a stop signal too), the temporary file is gone.
        """

    def checksum_of(self, identifier: str, name: BackupName) -> str | None:
        """Return the SHA-256 recorded for a backup, or None if it has none.

        Raises:
            BackupNotFoundError: there is no such backup.
            IntegrityError: the checksum file is not a ``sha256sum`` line.
        """

    def path_of(self, identifier: str, name: BackupName) -> PurePath:
        """Return the path of a committed backup.

        Raises:
            BackupNotFoundError: there is no such backup.
        """

    def delete(self, identifier: str, name: BackupName) -> None:
        """Delete a backup; deleting one that is already gone is not an error."""

    def share(self, identifier: str, name: BackupName) -> PurePath:
        """Copy a committed backup to the shared ``file.dump``, atomically; return its path.

        Raises:
            BackupNotFoundError: there is no such backup.
            ControllerError: the copy could not be written.
        """

    def shared_archive(self, identifier: str) -> PurePath:
        """Return the path of the shared ``file.dump`` of ``identifier``.

        Raises:
            BackupNotFoundError: there is none.
        """

    def shared_checksum(self, identifier: str) -> str | None:
        """Return the SHA-256 recorded for the shared ``file.dump``, or None.

        Raises:
            BackupNotFoundError: there is no shared archive.
            IntegrityError: the checksum file is not a ``sha256sum`` line.
        """


class Locks(Protocol):
    """One operation at a time on each database's backups."""

    def hold(self, identifier: str) -> AbstractContextManager[None]:
        """Hold the lock of ``identifier`` for the ``with`` block.

        Raises:
            BusyError: another process held it for longer than the wait allowed.
        """


class ArchiveChecker(Protocol):
    """Reads custom-format archives the way a restore would."""

    def check(self, archive: PurePath) -> str:
        """Read all of ``archive`` through ``pg_restore``; return its SHA-256.

        Raises:
            IntegrityError: ``pg_restore`` cannot read it to the end.
        """

    def digest(self, archive: PurePath) -> str:
        """Return the SHA-256 of ``archive``, read once, without ``pg_restore``."""

    def row_counts(self, archive: PurePath) -> list[ArchiveTable]:
        """Return each table data entry of ``archive`` with its number of rows.

        Raises:
            IntegrityError: ``pg_restore`` cannot read it, or its data does not
                match its table of contents.
        """


class Dumper(Protocol):
    """Writes a custom-format archive of a database."""

    def dump(self, database: Database, target: PurePath) -> None:
        """Write the archive of ``database`` to the file ``target``.

        Raises:
            ToolError: the dump failed; ``target`` may hold a partial file.
        """


class Restorer(Protocol):
    """Loads an archive into an existing, empty database."""

    def restore(self, database: Database, *, into: str, archive: PurePath, owners: bool) -> None:
        """Restore ``archive`` into the database called ``into`` on ``database``'s server.

        With ``owners`` false, objects are owned by the connecting user and no
        privileges are restored (for a server that lacks the dump's roles).

        Raises:
            ToolError: any statement failed (the restore stops at the first error).
        """


class DatabaseServer(Protocol):
    """Administration of the databases of one server, as ``database``'s user."""

    def exists(self, database: Database, name: str) -> bool:
        """Return whether a database called ``name`` exists.

        Raises:
            ToolError: the server cannot be reached or refused the login.
        """

    def properties(self, database: Database, name: str) -> DatabaseProperties | None:
        """Return the owner, privileges, settings, encoding and locale of ``name``.

        Returns None when there is no such database.
        """

    def create(
        self,
        database: Database,
        name: str,
        *,
        like: DatabaseProperties | None = None,
        comment: str | None = None,
    ) -> None:
        """Create an empty database ``name`` from ``template0``, commented ``comment``.

        With ``like``, it gets that encoding, locale and tablespace; else the
        server's defaults. It is owned by the connecting user.
        """

    def apply(self, database: Database, name: str, properties: DatabaseProperties | None) -> None:
        """Give the database ``name`` the owner, privileges, settings, connection limit
        and comment of ``properties``; with None, only clear its comment (a new database).
        """

    def drop(self, database: Database, name: str) -> None:
        """Drop the database ``name`` if it exists, ending its sessions."""

    def rename(self, database: Database, old: str, new: str) -> None:
        """Rename a database, ending the sessions connected to it first."""

    def row_counts(self, database: Database, name: str) -> dict[TableName, int]:
        """Return the number of rows of each plain table of the database ``name``."""

    def temporary_databases(
        self, database: Database, *, prefixes: Iterable[str]
    ) -> list[TemporaryDatabase]:
        """Return the databases whose names start with one of ``prefixes``, with comments."""


@attrs.frozen(kw_only=True)
class LockFile:
    """What a data directory's ``postmaster.pid`` says about its server."""

    pid: int
    alive: bool


class WalResetter(Protocol):
    """``pg_resetwal`` for a data directory, with the binary of its major version."""

    def server_lock(self, data_dir: PurePath) -> LockFile | None:
        """Return the server lock of ``data_dir``, or None when there is none.

        Raises:
            ControllerError: ``data_dir`` is not a PostgreSQL data directory.
        """

    def preview(self, data_dir: PurePath) -> str:
        """Return what ``pg_resetwal -n`` says it would do; change nothing.

        Raises:
            ToolError: the tool failed or is missing for this major version.
        """

    def preserve(self, data_dir: PurePath, *, into: PurePath) -> PurePath:
        """Save what a reset changes: ``pg_controldata`` and ``pg_resetwal -n``
        reports, ``global/pg_control`` and ``pg_wal``, into the new folder ``into``.

        Returns ``into``.

        Raises:
            ControllerError: something could not be read or written; nothing
                was reset.
        """

    def reset(self, data_dir: PurePath, *, force: bool) -> str:
        """Run ``pg_resetwal`` (with ``-f`` if ``force``) and return its output.

        Raises:
            ToolError: the tool refused or failed; nothing was reset.
        """
