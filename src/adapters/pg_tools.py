"""PostgreSQL's client tools behind the domain's ports: pg_dump, pg_restore, psql."""

from __future__ import annotations

import re
import time
from pathlib import Path, PurePath

import attrs
from plumbum import local
from plumbum.commands.base import BaseCommand
from plumbum.commands.processes import CommandNotFound

from pg_backup_manager.adapters.db_properties import DESCRIBE, properties_from
from pg_backup_manager.adapters.processes import run_tool
from pg_backup_manager.domain.errors import ToolError
from pg_backup_manager.domain.model import Database, DatabaseProperties

_HINTS = (
    (
        "password authentication failed",
        "check {prefix}_POSTGRES_USER and {prefix}_POSTGRES_PASSWORD",
    ),
    ("no password supplied", "set {prefix}_POSTGRES_PASSWORD"),
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
    ('role "', "the dump's roles are missing here: restore with --no-owner, or create them"),
    ("does not exist", "check {prefix}_POSTGRES_DB"),
    ("server version mismatch", "use client tools at least as new as the server (PG_BIN_DIR)"),
    ("no space left", "free space in the backup directory"),
)
_CONNECT_TIMEOUT_SECONDS = "10"
_BUSY = "is being accessed by other users"
# One count per plain table that is not an extension's, named as pg_dump names it.
_COUNT_ROWS = r"""
SELECT format('SELECT %L, count(*) FROM %I.%I',
              format('%I.%I', n.nspname, c.relname), n.nspname, c.relname)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r'
  AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\_%'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                  AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY 1
\gexec
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
    ) -> str:
        try:
            return run_tool(
                self.binaries.client(program),
                ["--no-password", *args],
                what=what,
                timeout=self.timeout,
                env={"PGPASSWORD": database.password, "PGAPPNAME": "pg-backup-manager"},
                stdin=stdin,
                capture=capture,
                secrets=[database.password],
            )
        except ToolError as error:
            raise ToolError(with_hint(str(error), database)) from None


def with_hint(message: str, database: Database) -> str:
    lowered = message.lower()
    for needle, hint in _HINTS:
        if needle in lowered:
            return f"{message} ({hint.format(prefix=database.env_prefix)})"
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
    (``:"name"``, ``:'name'``); nothing from outside is pasted into SQL.
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
        return properties_from(self._sql(database, DESCRIBE, a=name), name)

    def create(
        self, database: Database, name: str, *, like: DatabaseProperties | None = None
    ) -> None:
        """Create the empty database ``name`` from ``template0``, with ``like``'s locale."""
        options = like.create_options if like is not None else ""
        self._sql(database, f'CREATE DATABASE :"a" TEMPLATE template0 {options};', a=name)

    def apply(self, database: Database, properties: DatabaseProperties) -> None:
        """Run the statements that give a database back its owner, privileges and settings."""
        self._sql(database, properties.script, a=database.dbname)

    def drop(self, database: Database, name: str) -> None:
        """Drop the database ``name`` if it exists, ending its sessions first."""
        self._while_busy(database, 'DROP DATABASE IF EXISTS :"a";', a=name)

    def rename(self, database: Database, old: str, new: str) -> None:
        """Rename database ``old`` to ``new``, ending the sessions on ``old`` first."""
        self._while_busy(database, 'ALTER DATABASE :"a" RENAME TO :"b";', a=old, b=new)

    def row_counts(self, database: Database, name: str) -> dict[str, int]:
        """Return the rows of each plain table of the database ``name``, by qualified name."""
        out = self._sql(database, _COUNT_ROWS, on=name)
        counts = {}
        for line in out.splitlines():
            table, _, count = line.rpartition("\t")
            if table:
                counts[table] = int(count)
        return counts

    def names(self, database: Database, *, prefix: str) -> list[str]:
        """Return the names of the databases that start with ``prefix``."""
        out = self._sql(
            database,
            "SELECT datname FROM pg_database WHERE left(datname, length(:'a')) = :'a' ORDER BY 1;",
            a=prefix,
        )
        return out.splitlines()

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
        # The maintenance connection must not be to a database being changed.
        maintenance = on or ("template1" if "postgres" in names.values() else "postgres")
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
                f"--dbname={conninfo(database, maintenance)}",
            ],
            what=f"psql on {database.identifier} ({database.host}:{database.port})",
            stdin=script,
        )
