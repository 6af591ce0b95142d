"""What the domain needs from PostgreSQL and its tools, as Protocols named for their role."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import PurePath
from typing import Protocol

import attrs

from pg_backup_manager.domain.model import ArchiveTable, Database, DatabaseProperties, TableName
from pg_backup_manager.domain.names import MadeBy
from pg_backup_manager.domain.scratch import TemporaryDatabase


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


class Roles(Protocol):
    """The roles of one server, as ``database``'s user."""

    def cluster_names(self, database: Database) -> tuple[set[str], set[str]]:
        """Return the names of the server's roles and of its databases.

        Raises:
            ToolError: the server cannot be reached.
        """

    def create_roles(
        self, database: Database, statements: Sequence[str], *, secrets: Sequence[str] = ()
    ) -> None:
        """Run ``statements`` in one transaction: all of them take effect, or none.
        ``secrets`` (password hashes in them) never appear in an error.

        Raises:
            ToolError: a statement failed; nothing changed.
        """


class Restorer(Protocol):
    """Loads an archive into an existing, empty database, and says what the archive
    says about its database."""

    def restore(self, database: Database, *, into: str, archive: PurePath, owners: bool) -> None:
        """Restore ``archive`` into the database called ``into`` on ``database``'s server.

        With ``owners`` false, objects are owned by the connecting user and no
        privileges are restored (for a server that lacks the dump's roles).

        Raises:
            ToolError: any statement failed (the restore stops at the first error).
        """

    def archived_properties(self, archive: PurePath, *, owners: bool) -> DatabaseProperties | None:
        """Return the properties ``archive`` holds of its database (``pg_restore
        --create`` would apply them), or None when it holds none.

        Encoding and locale, comment, connection limit, settings and grants and
        revokes of PUBLIC; with ``owners``, also the owner, the settings of roles
        in the database and grants to roles. The tablespace is left out.

        Raises:
            IntegrityError: the archive cannot be read, or what it says about its
                database is not what pg_dump writes.
            ToolError: the tool failed.
        """


class ServerDatabases(Protocol):
    """The databases of one server, as ``database``'s user.

    Every method connects to a maintenance database, never to the one it
    names, so it works while the target is renamed away.

    Raises (every method):
        ToolError: the server cannot be reached or refused the statement.
    """

    def exists(self, database: Database, name: str) -> bool:
        """Return whether a database called ``name`` exists."""

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

    def drop(self, database: Database, name: str) -> None:
        """Drop the database ``name`` if it exists, ending its sessions."""

    def rename(self, database: Database, old: str, new: str) -> None:
        """Rename a database, ending the sessions connected to it first."""

    def temporary_databases(
        self, database: Database, *, prefixes: Iterable[str]
    ) -> list[TemporaryDatabase]:
        """Return the databases whose names start with one of ``prefixes``, with comments."""


class PropertyKeeper(Protocol):
    """What a database is besides its content: owner, privileges, settings, locale."""

    def properties(self, database: Database, name: str) -> DatabaseProperties | None:
        """Return the properties of the database ``name``, or None if there is none.

        Raises:
            ToolError: the server cannot be reached.
        """

    def apply(self, database: Database, name: str, properties: DatabaseProperties | None) -> None:
        """Give the database ``name`` the owner, privileges, settings, connection limit
        and comment of ``properties``; with None, only clear its comment (a new database).

        Raises:
            ToolError: the server refused a statement.
        """


class RowCounter(Protocol):
    """Counts the rows of a database's tables."""

    def row_counts(self, database: Database, name: str) -> dict[TableName, int]:
        """Return the number of rows of each plain table of the database ``name``: its
        own rows, without those of the tables that inherit from it, as an archive
        holds them.

        Raises:
            ToolError: the server cannot be reached.
        """


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
