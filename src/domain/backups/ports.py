"""What taking a backup needs: staging for new backups, shared copies, and PostgreSQL's
tools that dump and check an archive (Protocols named for their role)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import PurePath
from typing import Protocol

from pg_backup_manager.domain.model import ArchiveTable, Database
from pg_backup_manager.domain.names import Backup, BackupName, MadeBy, StoredArchive


class Draft(Protocol):
    """A backup being written: a file that becomes a backup only when committed."""

    @property
    def path(self) -> PurePath:
        """Return where the tools write the archive."""

    @property
    def globals_path(self) -> PurePath:
        """Return where the cluster's globals are written, to be kept beside the archive."""

    def commit(
        self, checksum: str, globals_checksum: str, *, left_out: tuple[str, ...] = ()
    ) -> Backup:
        """Make the archive and its globals durable, record their checksums beside them
        and give them their names (the globals first: a listed backup has its globals);
        with ``left_out``, a partial backup, record the pg_dump arguments that left
        something out beside them first.

        Raises:
            ControllerError: a backup of that name exists, or the file cannot be
                committed.
        """


class Staging(Protocol):
    """Where new backups are written, all or nothing."""

    def begin(self, identifier: str, name: BackupName) -> AbstractContextManager[Draft]:
        """Return a draft of backup ``name`` for the ``with`` block.

        Whatever the block raises (a stop signal too), or if it ends without a
        commit, nothing of the draft is left. A failure on a full device is
        raised as "no space left", whatever the tools made of it.

        Raises:
            ControllerError: the backup directory cannot be used (missing
                rights, writable by other users, a backup called ``name``).
        """


class SharedCopies(Protocol):
    """The one shared archive of each database, for other environments."""

    def share(self, identifier: str, name: BackupName) -> PurePath:
        """Copy backup ``name`` (and its checksum) to the shared ``file.dump``, atomically,
        its globals to ``file.globals.sql`` (removed if the backup has none), and the note
        of what a partial backup left out to ``file.left-out.json`` (removed if it is whole).

        Returns the shared file's path.

        Raises:
            BackupNotFoundError: there is no such backup.
            ControllerError: the copy could not be written.
        """

    def archive(self, identifier: str) -> StoredArchive:
        """Return the shared ``file.dump`` of ``identifier`` and its recorded SHA-256.

        Raises:
            BackupNotFoundError: there is no shared archive.
            IntegrityError, ControllerError: as :meth:`BackupCatalog.archive`.
        """

    def globals(self, identifier: str) -> StoredArchive:
        """Return the shared ``file.globals.sql`` of ``identifier`` and its SHA-256.

        Raises:
            BackupNotFoundError: there is no shared globals file.
            IntegrityError, ControllerError: as :meth:`BackupCatalog.archive`.
        """

    def left_out(self, identifier: str) -> tuple[str, ...] | None:
        """Return what the shared archive of ``identifier`` left out, as its note
        ``file.left-out.json`` records it (empty: the note cannot be read); None when there
        is no note: the shared archive is whole."""


class ArchiveChecker(Protocol):
    """Reads custom-format archives the way a restore would."""

    def check(self, archive: PurePath) -> str:
        """Read all of ``archive`` through ``pg_restore``; return its SHA-256.

        Raises:
            IntegrityError: ``pg_restore`` cannot read it to the end.
        """

    def digest(self, archive: PurePath) -> str:
        """Return the SHA-256 of ``archive``, read once, without ``pg_restore``."""

    def made_by(self, archive: PurePath) -> MadeBy:
        """Return the versions of ``pg_dump`` and of the server that made ``archive``.

        Raises:
            IntegrityError: ``pg_restore`` cannot read its table of contents.
        """

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


class GlobalsDumper(Protocol):
    """Writes the cluster's globals (roles, memberships, role settings, tablespaces)."""

    def dump_globals(self, database: Database, target: PurePath) -> None:
        """Write the globals of ``database``'s server as SQL to the file ``target``, with
        the role passwords only if the user may read them.

        Raises:
            ToolError: the dump failed.
        """
