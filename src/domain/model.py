"""Values the controller reasons about: tiers, backup names, databases, layout."""

from __future__ import annotations

import enum
import re
from datetime import UTC, datetime, timedelta
from pathlib import PurePath

import attrs

from pg_backup_manager.domain.errors import (
    ConfigurationError,
    InvalidBackupNameError,
    UnknownDatabaseError,
)


class Tier(enum.Enum):
    """How long a backup is meant to be kept; part of its file name."""

    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


_TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_NAME = re.compile(
    r"file_(?P<tier>daily|weekly|monthly)_"
    r"(?P<stamp>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z)\.dump"
)
SHARED_ARCHIVE_NAME = "file.dump"


def _must_be_utc(_: object, attribute: attrs.Attribute[datetime], value: datetime) -> None:
    if value.utcoffset() != timedelta(0):
        raise ValueError(f"{attribute.name} must be an aware UTC datetime, got {value!r}")


@attrs.frozen(kw_only=True, order=True)
class BackupName:
    """The name of one backup: ``file_<tier>_<UTC timestamp>.dump``.

    Ordered by time first, so ``max()`` of a list is the newest backup.
    """

    taken_at: datetime = attrs.field(validator=_must_be_utc)
    tier: Tier = attrs.field(order=lambda tier: tier.value)

    @classmethod
    def for_run(cls, *, tier: Tier, at: datetime) -> BackupName:
        """Return the name of a backup started at ``at`` (any aware time), to the second."""
        return cls(tier=tier, taken_at=at.astimezone(UTC).replace(microsecond=0))

    @classmethod
    def parse(cls, text: str) -> BackupName:
        """Return the name ``text`` spells.

        Raises:
            InvalidBackupNameError: ``text`` is not exactly a backup name (a path,
                another file, a bad date), so it must never be touched as a backup.
        """
        match = _NAME.fullmatch(text)
        if match is None:
            raise InvalidBackupNameError(
                f"'{text}' is not a backup name: expected a bare name like "
                "file_daily_2024-07-04T09:00:00Z.dump, as printed by 'controller list'"
            )
        try:
            naive = datetime.strptime(match["stamp"], _TIMESTAMP_FORMAT)
        except ValueError:
            raise InvalidBackupNameError(
                f"'{text}' is not a backup name: its timestamp is not a real date"
            ) from None
        return cls(tier=Tier(match["tier"]), taken_at=naive.replace(tzinfo=UTC))

    @classmethod
    def is_backup(cls, text: str) -> bool:
        """Return whether ``text`` is the name of a backup file."""
        try:
            cls.parse(text)
        except InvalidBackupNameError:
            return False
        return True

    def __str__(self) -> str:
        return f"file_{self.tier.value}_{self.taken_at.strftime(_TIMESTAMP_FORMAT)}.dump"


@attrs.frozen(kw_only=True)
class Backup:
    """A committed backup file of a database, with its size in bytes."""

    name: BackupName
    size: int


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


@attrs.frozen(kw_only=True)
class Database:
    """One managed database service and how to reach it.

    ``identifier`` names the service in ``DATABASE_LIST`` and its backup
    directories; ``dbname`` is the database inside the server that is dumped and
    that a restore replaces. The password is kept out of ``repr``.
    """

    identifier: str = attrs.field(validator=lambda _, __, value: check_identifier(value))
    host: str
    port: int
    user: str
    dbname: str
    password: str = attrs.field(repr=False)
    password_source: str = ""

    @property
    def env_prefix(self) -> str:
        """Return the prefix of this service's variables, e.g. ``USERS`` or ``MY_DB``."""
        return env_prefix(self.identifier)

    @property
    def address(self) -> str:
        """Return ``dbname@host:port`` for messages (never the password)."""
        return f"database '{self.dbname}' on {self.host}:{self.port}"

    @property
    def password_variable(self) -> str:
        """Return the variable the password came from (or would come from)."""
        return self.password_source or f"{self.env_prefix}_POSTGRES_PASSWORD"


def env_prefix(identifier: str) -> str:
    """Return the variable prefix of a service: upper-cased, ``-`` turned into ``_``."""
    return identifier.upper().replace("-", "_")


@attrs.frozen(kw_only=True)
class Layout:
    """Where backups, shared copies and data directories live.

    Every path is the root joined with an identifier that
    :func:`check_identifier` accepted, so none can leave its root.
    """

    data_root: PurePath
    shared_root: PurePath
    databases_root: PurePath

    def data_dir(self, identifier: str) -> PurePath:
        """Return the directory of the backups of ``identifier``."""
        return self.data_root / check_identifier(identifier)

    def shared_dir(self, identifier: str) -> PurePath:
        """Return the shared directory of ``identifier`` (holds ``file.dump``)."""
        return self.shared_root / check_identifier(identifier)

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
    """Everything the controller was told by its environment."""

    databases: tuple[Database, ...]
    layout: Layout
    production: bool
    create_shared_dirs: bool
    copy_to_shared: bool
    timezone: str
    schedule: str
    parallelism: int = 2
    min_kept: int = 1

    def database(self, identifier: str) -> Database:
        """Return the database called ``identifier``.

        Raises:
            UnknownDatabaseError: it is not in ``DATABASE_LIST``; the message
                lists the ones that are.
        """
        for database in self.databases:
            if database.identifier == identifier:
                return database
        known = ", ".join(d.identifier for d in self.databases)
        raise UnknownDatabaseError(f"unknown database '{identifier}': DATABASE_LIST has {known}")
