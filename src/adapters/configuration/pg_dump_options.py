"""Every option of ``pg_dump`` (9.2 to 18, all their names) and what the controller makes of
it in ``<SERVICE>_DUMP_ARGS``: passed on, passed on and the backup partial, or refused.

Refused are the options that would break what the controller does with an archive:
write it to its own file in the custom format with ``BACKUP_COMPRESSION``, connect
with the service's variables, restore it whole into a new database, count its rows
by its COPY data (``verify --restore``), and record what each backup left out.
"""

from __future__ import annotations

import attrs


@attrs.frozen(kw_only=True)
class PgDumpOption:
    """One option of pg_dump: its long names (the first is passed on: every pg_dump since
    9.2 knows it), its letter, whether it takes a value, and the controller's verdict:
    ``refused`` says why (``{prefix}``: the service's variable prefix), ``narrows`` that
    it leaves something of the database out (the backup is partial)."""

    names: tuple[str, ...]
    letter: str | None = None
    takes_value: bool = False
    refused: str | None = None
    narrows: bool = False

    @property
    def name(self) -> str:
        """Return the name the controller passes it by."""
        return self.names[0]


_CONNECTION = (
    "the controller connects with {prefix}_POSTGRES_HOST, _PORT, _USER, _PASSWORD and _DB, "
    "and never lets pg_dump ask for a password"
)
_NO_SCHEMA = (
    "an archive without the schema cannot be restored into the new database a restore loads"
)
_NO_DATA = (
    "an archive without any table's rows holds no data to restore; leave out the rows of "
    "some tables with {prefix}_EXCLUDE_TABLE_DATA"
)
_RESTORE = (
    "a restore's option, which custom-format archives do not keep: 'controller restore' "
    "replaces the whole database itself (and has --no-owner)"
)
_INSERTS = (
    "verify --restore counts each table's rows in the archive's COPY data, which INSERT "
    "commands would replace"
)


def _option(*names: str, letter: str | None = None, value: bool = False) -> PgDumpOption:
    return PgDumpOption(names=names, letter=letter, takes_value=value)


def _refused(why: str, *names: str, letter: str | None = None, value: bool = False) -> PgDumpOption:
    return PgDumpOption(names=names, letter=letter, takes_value=value, refused=why)


def _narrows(*names: str, letter: str | None = None, value: bool = False) -> PgDumpOption:
    return PgDumpOption(names=names, letter=letter, takes_value=value, narrows=True)


OPTIONS: tuple[PgDumpOption, ...] = (
    # What the controller itself decides.
    _refused(
        "the controller writes each archive into a file of its own", "file", letter="f", value=True
    ),
    _refused(
        "backups are custom-format archives, which restore, verify and the checksums read",
        "format",
        letter="F",
        value=True,
    ),
    _refused(
        "parallel dumps need the directory format; backups are custom-format archives",
        "jobs",
        letter="j",
        value=True,
    ),
    _refused("set BACKUP_COMPRESSION instead", "compress", letter="Z", value=True),
    _refused(_CONNECTION, "dbname", letter="d", value=True),
    _refused(_CONNECTION, "host", letter="h", value=True),
    _refused(_CONNECTION, "port", letter="p", value=True),
    _refused(_CONNECTION, "username", letter="U", value=True),
    _refused(_CONNECTION, "password", letter="W"),
    _refused(_CONNECTION, "no-password", letter="w"),
    _refused(_CONNECTION, "role", value=True),
    _refused(
        "its progress would go where the controller reads pg_dump's errors, and be thrown away",
        "verbose",
        letter="v",
    ),
    _refused("pg_dump would print its help and make no archive", "help", letter="?"),
    _refused("pg_dump would print its version and make no archive", "version", letter="V"),
    # What would make an archive that does not restore, or not as the controller checks it.
    _refused(_NO_SCHEMA, "data-only", letter="a"),
    _refused(_NO_SCHEMA, "no-schema"),
    _refused(_NO_DATA, "schema-only", letter="s"),
    _refused(_NO_DATA, "no-data"),
    _refused(_NO_DATA, "statistics-only"),
    _refused(
        "one section alone lacks the schema or the data a restore needs", "section", value=True
    ),
    _refused(_RESTORE, "clean", letter="c"),
    _refused(_RESTORE, "create", letter="C"),
    _refused(_RESTORE, "if-exists"),
    _refused(_RESTORE, "no-owner", letter="O"),
    _refused(_INSERTS, "inserts"),
    _refused(_INSERTS, "column-inserts", "attribute-inserts"),
    _refused(_INSERTS, "rows-per-insert", value=True),
    _refused(_INSERTS, "on-conflict-do-nothing"),
    _refused(
        "a restore or verify --restore would write its rows into the foreign server",
        "include-foreign-data",
        value=True,
    ),
    _refused(
        "for pg_upgrade alone: its archives do not restore into an ordinary database",
        "binary-upgrade",
    ),
    _refused(
        "it can round floating-point values; the default keeps them exact",
        "extra-float-digits",
        value=True,
    ),
    _refused(
        "its patterns would be read from a file at each dump, never checked at start nor "
        "recorded with the backup: use {prefix}_EXCLUDE_TABLES, _EXCLUDE_TABLE_DATA and "
        "_EXCLUDE_SCHEMAS",
        "filter",
        value=True,
    ),
    _refused(
        "a snapshot exported by another session lives only as long as it; a scheduled dump "
        "has none to use",
        "snapshot",
        value=True,
    ),
    _refused("pg_dump takes it for plain-text and tar output only", "restrict-key", value=True),
    # Exclusions have their variables: one place each, recorded with the backup.
    _refused("use {prefix}_EXCLUDE_TABLES", "exclude-table", letter="T", value=True),
    _refused("use {prefix}_EXCLUDE_TABLE_DATA", "exclude-table-data", value=True),
    _refused("use {prefix}_EXCLUDE_SCHEMAS", "exclude-schema", letter="N", value=True),
    # Passed on; the backup is partial.
    _narrows("table", letter="t", value=True),
    _narrows("table-and-children", value=True),
    _narrows("schema", letter="n", value=True),
    _narrows("extension", letter="e", value=True),
    _narrows("exclude-extension", value=True),
    _narrows("exclude-table-and-children", value=True),
    _narrows("exclude-table-data-and-children", value=True),
    _narrows("no-blobs", "no-large-objects", letter="B"),
    _narrows("no-unlogged-table-data"),
    _narrows("enable-row-security"),  # only the rows the user may see
    # Passed on; the backup is whole.
    _option("blobs", "large-objects", letter="b"),
    _option("encoding", letter="E", value=True),
    _option("superuser", letter="S", value=True),
    _option("no-reconnect", letter="R"),
    _option("no-privileges", "no-acl", letter="x"),
    _option("lock-wait-timeout", value=True),
    _option("no-sync"),
    _option("sync-method", value=True),
    _option("disable-dollar-quoting"),
    _option("disable-triggers"),
    _option("load-via-partition-root"),
    _option("no-comments"),
    _option("no-policies"),
    _option("no-publications"),
    _option("no-security-labels"),
    _option("no-subscriptions"),
    _option("no-table-access-method"),
    _option("no-tablespaces"),
    _option("no-toast-compression"),
    _option("quote-all-identifiers"),
    _option("serializable-deferrable"),
    _option("strict-names"),
    _option("use-set-session-authorization"),
    _option("statistics"),
    _option("with-statistics"),
    _option("no-statistics"),
    _option("with-data"),
    _option("with-schema"),
    _option("sequence-data"),
)
BY_LETTER = {option.letter: option for option in OPTIONS if option.letter}
BY_NAME = {name: option for option in OPTIONS for name in option.names}
