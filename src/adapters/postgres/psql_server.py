"""Administration of a server's databases through ``psql``: the ServerDatabases,
PropertyKeeper, RowCounter, Roles and DatabaseLister ports."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence

import attrs

from pg_backup_manager.adapters.postgres.db_properties import (
    CLEAR_COMMENT,
    DESCRIBE,
    literal,
    properties_from,
)
from pg_backup_manager.adapters.postgres.libpq import PgClient, conninfo
from pg_backup_manager.adapters.postgres.pg_binaries import PgBinaries
from pg_backup_manager.domain.errors import ToolError
from pg_backup_manager.domain.model import Database, DatabaseProperties, TableName
from pg_backup_manager.domain.restore.scratch import TemporaryDatabase

_BUSY = "is being accessed by other users"
_MAINTENANCE_DATABASES = ("postgres", "template1")
# The rows of every plain table, in one JSON document: names travel as JSON
# strings, whatever characters they hold. Each table's own rows (ONLY), as
# pg_dump saves them: a parent's children and a partitioned table's partitions
# are tables of their own (a partitioned table, relkind 'p', holds no rows).
_COUNT_ROWS = r"""
SELECT coalesce(json_agg(json_build_object(
  'schema', n.nspname, 'table', c.relname,
  'rows', (xpath('/row/c/text()', query_to_xml(
             format('SELECT count(*) AS c FROM ONLY %I.%I', n.nspname, c.relname),
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

# The databases a service with <SERVICE>_POSTGRES_DB=* backs up: names travel as JSON
# strings, whatever characters (a newline) they hold.
_DATABASE_NAMES = """
SELECT coalesce(json_agg(datname ORDER BY datname), '[]') FROM pg_database
WHERE datallowconn AND NOT datistemplate;
"""
_UNLISTED = """
SELECT CASE WHEN datistemplate THEN 'template' ELSE 'no connections' END FROM pg_database
WHERE datname = :'a' AND NOT (datallowconn AND NOT datistemplate);
"""
_CLUSTER_NAMES = """
SELECT json_build_object(
  'roles', (SELECT coalesce(json_agg(rolname), '[]') FROM pg_roles),
  'databases', (SELECT coalesce(json_agg(datname), '[]') FROM pg_database));
"""


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
        """Return the rows of each plain table of the database ``name``, its own only."""
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

    def database_names(self, database: Database) -> list[str]:
        """Return the databases of the server that accept connections, templates aside."""
        return [str(name) for name in json.loads(self._sql(database, _DATABASE_NAMES))]

    def unlisted(self, database: Database, name: str) -> str | None:
        """Return ``"template"`` or ``"no connections"`` for the server's database ``name``
        that :meth:`database_names` leaves out; None when it has none of that name."""
        return self._sql(database, _UNLISTED, a=name).strip() or None

    def cluster_names(self, database: Database) -> tuple[set[str], set[str]]:
        """Return the names of the server's roles and of its databases."""
        names = json.loads(self._sql(database, _CLUSTER_NAMES))
        return set(names["roles"]), set(names["databases"])

    def create_roles(
        self, database: Database, statements: Sequence[str], *, secrets: Sequence[str] = ()
    ) -> None:
        """Run ``statements`` (a globals file's, with role passwords) in one transaction.

        Errors are terse, so that no statement is quoted back in a message, and
        ``secrets`` (the password hashes) are blanked from any message too.
        """
        script = "\n".join(["\\set VERBOSITY terse", "BEGIN;", *statements, "COMMIT;", ""])
        self._sql(database, script, secrets=secrets)

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

    def _sql(
        self,
        database: Database,
        script: str,
        *,
        on: str | None = None,
        secrets: Sequence[str] = (),
        **names: str,
    ) -> str:
        if on is not None:
            return self._psql(database, script, on, names, secrets)
        # Never the target (a restore may have it renamed away) or a database
        # being changed; when one maintenance database is missing, the other.
        # (A service with every database has no target: its dbname is postgres itself.)
        avoid = {*([] if database.every_database else [database.dbname]), *names.values()}
        candidates = sorted(_MAINTENANCE_DATABASES, key=lambda name: name in avoid)
        for candidate in candidates[:-1]:
            try:
                return self._psql(database, script, candidate, names, secrets)
            except ToolError as error:
                if f'database "{candidate}" does not exist' not in str(error):
                    raise
        return self._psql(database, script, candidates[-1], names, secrets)

    def _psql(
        self,
        database: Database,
        script: str,
        dbname: str,
        names: dict[str, str],
        secrets: Sequence[str] = (),
    ) -> str:
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
            secrets=secrets,
        )
