"""What the domain needs from the world, as Protocols named for their role.

Adapters satisfy these structurally (they do not inherit from them); the
unit tests' fakes do too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import PurePath
from typing import Protocol

import attrs

from pg_backup_manager.domain.model import Backup, BackupName, Database


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

    def write(
        self, identifier: str, name: BackupName, writer: Callable[[PurePath], None]
    ) -> Backup:
        """Publish the backup that ``writer`` writes, all or nothing.

        ``writer`` is called with a temporary path in the backup directory and
        must create the complete archive there. The file is then made durable
        and renamed to ``name``. Returns the committed backup.

        Raises:
            ControllerError: ``writer`` raised it, a backup called ``name``
                exists already, or the file could not be committed. Whatever
                ``writer`` raised (a stop signal too), the temporary file is gone.
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

    def create(self, database: Database, name: str) -> None:
        """Create an empty database ``name`` (from ``template0``) owned by the user."""

    def drop(self, database: Database, name: str) -> None:
        """Drop the database ``name`` if it exists, ending its sessions."""

    def rename(self, database: Database, old: str, new: str) -> None:
        """Rename a database, ending the sessions connected to it first."""


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

    def reset(self, data_dir: PurePath, *, force: bool) -> str:
        """Run ``pg_resetwal`` (with ``-f`` if ``force``) and return its output.

        Raises:
            ToolError: the tool refused or failed; nothing was reset.
        """
