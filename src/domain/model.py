"""Values the controller reasons about: databases, where their backups live, tables."""

from __future__ import annotations

import re
from pathlib import PurePath

import attrs

from pg_backup_manager.domain import database_names
from pg_backup_manager.domain.dump_options import DumpOptions
from pg_backup_manager.domain.errors import ConfigurationError, UnknownDatabaseError

_IDENTIFIER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,62}")


def check_identifier(identifier: str) -> str:
    """Return ``identifier`` if it can name a service, its directories and variables.

    Raises:
        ConfigurationError: it is empty, too long, or has characters other than
            letters, digits, ``-`` and ``_`` (a path separator or ``..`` above all).
    """
    if not _IDENTIFIER.fullmatch(identifier):
        raise ConfigurationError(
            f"invalid database identifier '{identifier}' in DATABASE_LIST: use letters, "
            "digits, '-' and '_' only (at most 63), starting with a letter or digit"
        )
    return identifier


def check_name(identifier: str) -> str:
    """Return ``identifier`` if it names a service (:func:`check_identifier`) or a database
    of a server, ``<service>/<database>`` (:mod:`.database_names`).

    Raises:
        ConfigurationError: it does neither.
    """
    service, name = database_names.split(identifier)
    check_identifier(service)
    if name is not None:
        database_names.check_database_name(name)
    return identifier


@attrs.frozen(kw_only=True)
class Database:
    """One managed database service and how to reach it.

    ``identifier`` names the service in ``DATABASE_LIST`` and its backup
    directories; ``dbname`` is the database inside the server that is dumped and
    that a restore replaces. The password is kept out of ``repr``;
    ``password_variable`` is the variable that gives it (``adapters.settings`` knows
    the variables' names, the domain does not).

    A service with ``every_database`` (``<SERVICE>_POSTGRES_DB=*``) stands for every
    database of its server but those ``excluded``: each is a database of its own,
    :meth:`one_of_server`, named ``<service>/<database>``; ``dbname`` is then the
    database it connects to to list them (``postgres``).
    """

    identifier: str = attrs.field(validator=lambda _, __, value: check_name(value))
    host: str
    port: int
    user: str
    dbname: str
    password: str = attrs.field(repr=False)
    # The variable the password came from (or would come from): messages name it.
    password_variable: str = ""
    # Point-in-time recovery (<SERVICE>_WAL_ARCHIVE): base backups and WAL are kept.
    wal_archive: bool = False
    # <SERVICE>_POSTGRES_DB=*: every database of the server, but <SERVICE>_EXCLUDE_DATABASES.
    every_database: bool = False
    excluded: frozenset[str] = frozenset()
    # Variables that messages name (adapters.settings knows them, the domain does not).
    database_variable: str = ""
    excluded_variable: str = ""

    @property
    def service(self) -> str:
        """Return the service of ``DATABASE_LIST`` this database belongs to."""
        return database_names.split(self.identifier)[0]

    @property
    def of_server(self) -> bool:
        """Return whether this is one database of a service with ``every_database``."""
        return database_names.split(self.identifier)[1] is not None

    def one_of_server(self, name: str) -> Database:
        """Return database ``name`` of this service's server, named ``<service>/<name>``:
        reached as this service is, without WAL archiving (the server's, kept by the
        service).

        Raises:
            ConfigurationError: this service does not back up every database, or ``name``
                cannot name one.
        """
        if not self.every_database:
            raise UnknownDatabaseError(
                f"'{self.identifier}' backs up one database ({self.database_variable or 'its'} "
                f"{self.dbname!r}), not every database of its server: name it "
                f"'{self.identifier}'"
            )
        database_names.check_database_name(name, where=f" in '{self.identifier}/...'")
        return attrs.evolve(
            self,
            identifier=database_names.joined(self.identifier, name),
            dbname=name,
            wal_archive=False,
            every_database=False,
            excluded=frozenset(),
        )

    # What its dumps pass to pg_dump: exclusions and <SERVICE>_DUMP_ARGS.
    dump_options: DumpOptions = attrs.field(factory=DumpOptions)

    @property
    def address(self) -> str:
        """Return ``dbname@host:port`` for messages (never the password)."""
        return f"database '{self.dbname}' on {self.host}:{self.port}"


@attrs.frozen(kw_only=True)
class Layout:
    """Where backups, shared copies and data directories live.

    Every path is the root joined with an identifier that :func:`check_name`
    accepted: a service (:func:`check_identifier`), or ``<service>/<segment>`` for a
    database of a server (:func:`.database_names.segment`), so none can leave its root.
    """

    data_root: PurePath
    shared_root: PurePath
    databases_root: PurePath

    def backup_dir(self, identifier: str) -> PurePath:
        """Return the directory of the backups of ``identifier`` (not PostgreSQL's data)."""
        return self.data_root.joinpath(*database_names.segments(check_name(identifier)))

    def shared_dir(self, identifier: str) -> PurePath:
        """Return the shared directory of ``identifier`` (holds ``file.dump``)."""
        return self.shared_root.joinpath(*database_names.segments(check_name(identifier)))

    def database_dir(self, identifier: str) -> PurePath:
        """Return the PostgreSQL data directory of ``identifier`` (for ``resetwal``)."""
        return self.databases_root / check_identifier(identifier)


@attrs.frozen(kw_only=True)
class DatabaseProperties:
    """What a database is besides its content, as its server describes it.

    ``create_options`` are the ``WITH ...`` options that recreate its encoding,
    locale and tablespace; ``script`` re-applies its owner, privileges,
    settings and comment. Both are the server tools' own text: the domain only
    carries them from the old database to the restored one.
    """

    create_options: str
    script: str


@attrs.frozen(kw_only=True, order=True)
class TableName:
    """A table of a database, by schema and name exactly as the catalog has them."""

    schema: str
    table: str

    def __str__(self) -> str:
        return f"{self.schema}.{self.table}"


@attrs.frozen(kw_only=True)
class ArchiveTable:
    """The data of one table in an archive: its ``pg_restore --list`` label and row count.

    ``label`` is ``<schema> <table> <owner>``, as the archive's table of
    contents lists the entry.
    """

    label: str
    rows: int


@attrs.frozen(kw_only=True)
class Config:
    """What the domain needs of the configuration: the databases, where their backups
    live, and the rules of runs. (``adapters.settings.Settings`` holds it, with what
    only the adapters need: tool paths, timeouts, the parsed schedule.)"""

    databases: tuple[Database, ...]
    layout: Layout
    production: bool
    create_shared_dirs: bool
    copy_to_shared: bool
    timezone: str
    parallelism: int = 2

    def database(self, identifier: str) -> Database:
        """Return the database called ``identifier``: a service, or ``<service>/<name>``
        for database ``name`` of a service with ``every_database``
        (:meth:`Database.one_of_server`; whether the server or the disk has it is not
        asked here).

        Raises:
            UnknownDatabaseError: it is not in ``DATABASE_LIST``, or names a database
                of a service that backs up one; the message says which.
            ConfigurationError: the database's name cannot be one.
        """
        service, name = database_names.split(identifier)
        for database in self.databases:
            if database.identifier == service:
                return database if name is None else database.one_of_server(name)
        known = ", ".join(d.identifier for d in self.databases)
        raise UnknownDatabaseError(f"unknown database '{identifier}': DATABASE_LIST has {known}")
