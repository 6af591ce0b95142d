"""PostgreSQL's client tools behind the domain's ports: pg_dump, pg_restore, psql."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePath

import attrs
from plumbum import local
from plumbum.commands.base import BaseCommand
from plumbum.commands.processes import CommandNotFound

from pg_backup_manager.adapters.db_properties import (
    CLEAR_COMMENT,
    DESCRIBE,
    literal,
    properties_from,
)
from pg_backup_manager.adapters.processes import run_tool
from pg_backup_manager.domain.errors import ToolError
from pg_backup_manager.domain.model import Database, DatabaseProperties, TableName
from pg_backup_manager.domain.scratch import TemporaryDatabase

_HINTS = (
    ("password authentication failed", "check {prefix}_POSTGRES_USER and {password}"),
    ("no password supplied", "set {password}"),
    ("could not translate host name", "check {prefix}_POSTGRES_HOST"),
    ("connection refused", "is the server up? check {prefix}_POSTGRES_HOST and _PORT"),
    ("timeout expired", "is the server up? check {prefix}_POSTGRES_HOST and _PORT"),
    ("must be owner of database", "the restoring user must own the database or be a superuser"),
    (
        "must be a superuser to terminate",
        "ending other users' sessions needs a superuser or pg_signal_backend",
    ),
    (
        "permission denied to create database",
        "the restoring user needs CREATEDB (ALTER ROLE ... CREATEDB)",
    ),
    ("does not exist", "check {prefix}_POSTGRES_DB"),
    ("server version mismatch", "use client tools at least as new as the server (PG_BIN_DIR)"),
    ("no space left", "free space in the backup directory"),
)
_MISSING_ROLE = re.compile(r'role "((?:[^"]|"")+)" does not exist')
APPLICATION_NAME = "pg-backup-manager"
_CONNECT_TIMEOUT_SECONDS = "10"
_BUSY = "is being accessed by other users"
_MAINTENANCE_DATABASES = ("postgres", "template1")
# The rows of every plain table, in one JSON document: names travel as JSON
# strings, whatever characters they hold.
_COUNT_ROWS = r"""
SELECT coalesce(json_agg(json_build_object(
  'schema', n.nspname, 'table', c.relname,
  'rows', (xpath('/row/c/text()', query_to_xml(
             format('SELECT count(*) AS c FROM %I.%I', n.nspname, c.relname),
             false, true, '')))[1]::text::bigint)), '[]')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r'
  AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\_%';
"""
_TEMPORARY_DATABASES = """
SELECT coalesce(json_agg(json_build_object(
  'name', d.datname, 'comment', shobj_description(d.oid, 'pg_database'))), '[]')
FROM pg_database d
WHERE EXISTS (SELECT 1 FROM json_array_elements_text(:'a'::json) AS p(prefix)
              WHERE left(d.datname, length(p.prefix)) = p.prefix);
"""


@attrs.frozen(kw_only=True)
class PgBinaries:
    """Finds PostgreSQL programs, lazily, at the moment one is needed.

    Client tools come from ``bin_dir`` when it is set, else from the newest
    ``<root>/<major>/bin`` that has them, else from ``PATH``. Server-side tools
    (``pg_resetwal``) come from ``<root>/<major>/bin`` of the exact major version.
    """

    root: Path
    bin_dir: Path | None = None

    def client(self, program: str) -> BaseCommand:
        """Return the client tool ``program``.

        Raises:
            ToolError: it is nowhere to be found.
        """
        if self.bin_dir is not None:
            return self._existing(self.bin_dir / program, "PG_BIN_DIR")
        for candidate in sorted(self.root.glob(f"*/bin/{program}"), key=_major_of, reverse=True):
            return local[str(candidate)]
        try:
            return local[program]
        except CommandNotFound:
            raise ToolError(
                f"{program} not found in {self.root}/*/bin or PATH: install the PostgreSQL "
                "client tools or set PG_BIN_DIR"
            ) from None

    def for_major(self, major: str, program: str) -> BaseCommand:
        """Return ``program`` of PostgreSQL ``major`` exactly.

        Raises:
            ToolError: that version's tool is not installed.
        """
        path = self.root / major / "bin" / program
        if not path.is_file():
            shipped = sorted(
                candidate.parent.parent.name for candidate in self.root.glob(f"*/bin/{program}")
            )
            raise ToolError(
                f"{program} of PostgreSQL {major} is not available ({path} missing; "
                f"available: {', '.join(shipped) or 'none'}): use a {program} of version {major}"
            )
        return local[str(path)]

    @staticmethod
    def _existing(path: Path, source: str) -> BaseCommand:
        if not path.is_file():
            raise ToolError(f"{path.name} of {source} not found at {path}: install it")
        return local[str(path)]


def _major_of(path: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", path.parent.parent.name)) or (0,)


def conninfo(database: Database, dbname: str) -> str:
    """Return a libpq connection string for ``dbname`` on ``database``'s server.

    Values are quoted, so names with spaces or ``=`` stay names. The password is
    not in it: it travels in the tool's environment.
    """
    fields = {
        "host": database.host,
        "port": str(database.port),
        "user": database.user,
        "dbname": dbname,
        "connect_timeout": _CONNECT_TIMEOUT_SECONDS,
    }
    return " ".join(f"{key}={_quote(value)}" for key, value in fields.items())


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


@attrs.frozen(kw_only=True)
class PgClient:
    """Runs one client tool against a database's server, with its password in the environment."""

    binaries: PgBinaries
    timeout: float

    def run(
        self,
        program: str,
        database: Database,
        args: list[str],
        *,
        what: str,
        stdin: str | None = None,
        capture: bool = True,
        env: Mapping[str, str] | None = None,
        owners: bool = True,
    ) -> str:
        """Run ``program`` with ``args`` as ``database``'s user; return its output.

        Raises:
            ToolError: it failed; the message ends with a hint when the cause is known
                (``owners`` false: a restore that already skips owners).
        """
        try:
            return run_tool(
                self.binaries.client(program),
                ["--no-password", *args],
                what=what,
                timeout=self.timeout,
                env={**libpq_env(database), **(env or {})},
                stdin=stdin,
                capture=capture,
                secrets=[database.password],
            )
        except ToolError as error:
            raise ToolError(with_hint(str(error), database, owners=owners)) from None


def libpq_env(database: Database) -> dict[str, str]:
    """Return the environment that gives a tool ``database``'s password, never its argv."""
    return {"PGPASSWORD": database.password, "PGAPPNAME": APPLICATION_NAME}


def with_hint(message: str, database: Database, *, owners: bool = True) -> str:
    """Return ``message`` with what to do about it, when a known cause shows in it."""
    missing_role = _MISSING_ROLE.search(message)
    if missing_role is not None:
        role = missing_role.group(1)
        skip = "; or restore with --no-owner" if owners else ""
        return (
            f'{message} (role "{role}" is named by the dump but missing on this server: '
            f'create it first, e.g. CREATE ROLE "{role}" NOLOGIN{skip})'
        )
    lowered = message.lower()
    for needle, hint in _HINTS:
        if needle in lowered:
            said = hint.format(prefix=database.env_prefix, password=database.password_variable)
            return f"{message} ({said})"
    return message


@attrs.frozen(kw_only=True)
class PgDump:
    """``pg_dump`` writing custom-format archives straight to their file."""

    binaries: PgBinaries
    timeout: float

    def dump(self, database: Database, target: PurePath) -> None:
        """Write the archive of ``database`` to ``target``; raise ToolError on failure."""
        PgClient(binaries=self.binaries, timeout=self.timeout).run(
            "pg_dump",
            database,
            [
                "--format=custom",
                f"--file={target}",
                f"--dbname={conninfo(database, database.dbname)}",
            ],
            what=f"pg_dump of {database.identifier} ({database.address})",
            capture=False,
        )


@attrs.frozen(kw_only=True)
class PsqlServer:
    """Database administration through ``psql``, names passed as psql variables.

    Statements are sent on standard input so that psql quotes every name
    (``:"name"``, ``:'name'``); nothing from outside is pasted into SQL. The
    connection goes to a maintenance database (``postgres``, else
    ``template1``) that is never the target or a database being changed.
    """

    binaries: PgBinaries
    timeout: float
    busy_retries: int = 20
    busy_pause: float = 0.5

    def exists(self, database: Database, name: str) -> bool:
        """Return whether the database ``name`` exists."""
        out = self._sql(database, "SELECT count(*) FROM pg_database WHERE datname = :'a';", a=name)
        return out.strip() == "1"

    def properties(self, database: Database, name: str) -> DatabaseProperties | None:
        """Return what database ``name`` is besides its content, or None if it does not exist."""
        return properties_from(self._sql(database, DESCRIBE, a=name))

    def create(
        self,
        database: Database,
        name: str,
        *,
        like: DatabaseProperties | None = None,
        comment: str | None = None,
    ) -> None:
        """Create the empty database ``name`` from ``template0``, with ``like``'s locale."""
        options = like.create_options if like is not None else ""
        statements = f'CREATE DATABASE :"a" TEMPLATE template0 {options};'
        if comment is not None:
            statements += f'\nCOMMENT ON DATABASE :"a" IS {literal(comment)};'
        self._sql(database, statements, a=name)

    def apply(self, database: Database, name: str, properties: DatabaseProperties | None) -> None:
        """Give database ``name`` the owner, privileges, settings and comment of ``properties``."""
        script = properties.script if properties is not None else CLEAR_COMMENT
        self._sql(database, script, a=name)

    def drop(self, database: Database, name: str) -> None:
        """Drop the database ``name`` if it exists, ending its sessions first."""
        self._while_busy(database, 'DROP DATABASE IF EXISTS :"a";', a=name)

    def rename(self, database: Database, old: str, new: str) -> None:
        """Rename database ``old`` to ``new``, ending the sessions on ``old`` first."""
        self._while_busy(database, 'ALTER DATABASE :"a" RENAME TO :"b";', a=old, b=new)

    def row_counts(self, database: Database, name: str) -> dict[TableName, int]:
        """Return the rows of each plain table of the database ``name``."""
        tables = json.loads(self._sql(database, _COUNT_ROWS, on=name))
        return {
            TableName(schema=table["schema"], table=table["table"]): int(table["rows"])
            for table in tables
        }

    def temporary_databases(
        self, database: Database, *, prefixes: Iterable[str]
    ) -> list[TemporaryDatabase]:
        """Return the databases whose names start with one of ``prefixes``, with comments."""
        found = json.loads(self._sql(database, _TEMPORARY_DATABASES, a=json.dumps(list(prefixes))))
        return [TemporaryDatabase(name=row["name"], comment=row["comment"]) for row in found]

    def _while_busy(self, database: Database, statement: str, **names: str) -> None:
        # Clients may reconnect between ending their sessions and the statement;
        # end them again and retry for a bounded time.
        end_sessions = (
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = :'a' AND pid <> pg_backend_pid();"
        )
        for attempt in range(self.busy_retries + 1):
            try:
                self._sql(database, f"{end_sessions}\n{statement}", **names)
                return
            except ToolError as error:
                if _BUSY not in str(error) or attempt == self.busy_retries:
                    raise
            time.sleep(self.busy_pause)

    def _sql(self, database: Database, script: str, *, on: str | None = None, **names: str) -> str:
        if on is not None:
            return self._psql(database, script, on, names)
        # Never the target (a restore may have it renamed away) or a database
        # being changed; when one maintenance database is missing, the other.
        avoid = {database.dbname, *names.values()}
        candidates = sorted(_MAINTENANCE_DATABASES, key=lambda name: name in avoid)
        for candidate in candidates[:-1]:
            try:
                return self._psql(database, script, candidate, names)
            except ToolError as error:
                if f'database "{candidate}" does not exist' not in str(error):
                    raise
        return self._psql(database, script, candidates[-1], names)

    def _psql(self, database: Database, script: str, dbname: str, names: dict[str, str]) -> str:
        variables = [f"--set={key}={value}" for key, value in names.items()]
        return PgClient(binaries=self.binaries, timeout=self.timeout).run(
            "psql",
            database,
            [
                "--no-psqlrc",
                "--quiet",
                "--tuples-only",
                "--no-align",
                "--set=ON_ERROR_STOP=1",
                "--field-separator=\t",
                *variables,
                f"--dbname={conninfo(database, dbname)}",
            ],
            what=f"psql on {database.identifier} ({database.host}:{database.port})",
            stdin=script,
            env={"PGCLIENTENCODING": "UTF8"},
        )
