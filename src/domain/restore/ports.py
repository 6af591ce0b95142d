"""What a restore and a verify need from PostgreSQL and its tools, and from a globals file,
as Protocols named for their role."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import PurePath
from typing import Protocol

from pg_backup_manager.domain.model import Database, DatabaseProperties, TableName
from pg_backup_manager.domain.restore.globals import GlobalStatement
from pg_backup_manager.domain.restore.scratch import TemporaryDatabase


class GlobalsReader(Protocol):
    """Reads the statements of a globals file."""

    def read(self, path: PurePath) -> list[GlobalStatement]:
        """Return the statements of the globals file at ``path``.

        Raises:
            IntegrityError: it cannot be read as SQL (cut short, not UTF-8).
            ControllerError: it cannot be read.
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
