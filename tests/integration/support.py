"""Helpers of the integration tests: the servers, psql, pagila, and the controller process.

Two PostgreSQL 15 servers run in Docker (``docker/compose.test.yml``, host
network, fixed ports on 127.0.0.1); the controller runs as a real process of
the virtualenv, in a fresh working directory per test; data is loaded, changed
and compared with the host's ``psql``.

The end-to-end tests (``test_container*``) drive the controller image instead,
in the stack of ``docker/compose.e2e.yml``: a PostgreSQL 15 and a PostgreSQL 17
server whose data volumes the controller mounts too, reached only through the
docker CLI (see ``ContainerStack``).
"""

from __future__ import annotations

import functools
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

DATA = Path(__file__).resolve().parent / "data"
PG_BIN = Path("/usr/lib/postgresql/15/bin")
CONTROLLER = Path(sys.executable).parent / "controller"
APP_DB = "appdb"
DEAD_PORT = 55499  # nothing listens here: a server that is down
CONTROLLER_TIMEOUT_S = 180.0
BACKUP_NAME_PATTERN = r"file_(daily|weekly|monthly)_\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\.dump"


@attrs.frozen(kw_only=True)
class PgServer:
    """One PostgreSQL server the tests reach on 127.0.0.1."""

    service: str
    port: int
    password: str
    host: str = "127.0.0.1"
    user: str = "postgres"


@attrs.frozen(kw_only=True)
class PgServers:
    a: PgServer
    b: PgServer

    def __iter__(self) -> Iterator[PgServer]:
        return iter((self.a, self.b))


PG_A = PgServer(service="pg-a", port=55432, password="secret-a")
PG_B = PgServer(service="pg-b", port=55433, password="secret-b")
PG_NEW = PgServer(service="pg-new", port=55434, password="secret-new")  # PostgreSQL 17


# --- SQL through psql -------------------------------------------------------------------------


def run_psql(
    server: PgServer,
    sql: str,
    *,
    db: str = APP_DB,
    check: bool = True,
    single_transaction: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Runs ``sql`` (any number of statements) with psql; the password goes by environment.

    Output is unaligned, tuples only, tab-separated; timestamps are shown in UTC.
    Raises AssertionError naming the server when ``check`` and psql fails.
    """
    argv = [str(PG_BIN / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-A", "-t", "-F", "\t"]
    argv += ["-h", server.host, "-p", str(server.port), "-U", server.user, "-d", db, "-f", "-"]
    if single_transaction:
        argv.append("--single-transaction")
    env = {
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "PGPASSWORD": server.password,
        "PGCONNECT_TIMEOUT": "5",
        "PGTZ": "UTC",
    }
    result = subprocess.run(
        argv, input=sql, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"psql on {server.service}/{db} exited {result.returncode}: {result.stderr.strip()}"
        )
    return result


def psql(server: PgServer, sql: str, *, db: str = APP_DB) -> str:
    """Runs ``sql`` and returns its output (see ``run_psql``)."""
    return run_psql(server, sql, db=db).stdout


def recreate_database(server: PgServer, db: str) -> None:
    """Drops ``db`` (disconnecting its sessions) and creates it empty."""
    psql(
        server,
        f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE);\nCREATE DATABASE "{db}";\n',
        db="postgres",
    )


# --- pagila: schema, rows, a change, and ways to compare --------------------------------------

# The stored schema is pagila's newest, written for PostgreSQL 18 with pgvector:
# uuidv7() and VIRTUAL generated columns are new in 18, and pgvector is not
# packaged for Debian 12. Each change below makes it load on PostgreSQL 15 and
# keeps what it tests: a default, a generated column, an extension that owns a
# type used by a table, and a non-btree index on it (cube ships with
# PostgreSQL). Each must match exactly as often as said, or the copy changed.
_PG15_REWRITES = (
    ("uuidv7()", "gen_random_uuid()", 58),
    (
        "GENERATED ALWAYS AS (round(length / 60.0, 2)) VIRTUAL",
        "GENERATED ALWAYS AS (round(length / 60.0, 2)) STORED",
        1,
    ),
    (
        "CREATE EXTENSION IF NOT EXISTS vector WITH SCHEMA public;",
        "CREATE EXTENSION IF NOT EXISTS cube WITH SCHEMA public;",
        1,
    ),
    (
        "COMMENT ON EXTENSION vector IS 'vector data type and ivfflat and hnsw access methods';",
        "",
        1,
    ),
    ("embedding public.vector(20) NOT NULL", "embedding public.cube NOT NULL", 1),
    ("USING hnsw (embedding public.vector_cosine_ops)", "USING gist (embedding)", 1),
)


# PostgreSQL 17 has pgvector (postgresql-17-pgvector) but neither uuidv7() nor
# VIRTUAL generated columns; the rows then give film_embedding a real vector.
_PG17_REWRITES = (
    ("uuidv7()", "gen_random_uuid()", 58),
    (
        "GENERATED ALWAYS AS (round(length / 60.0, 2)) VIRTUAL",
        "GENERATED ALWAYS AS (round(length / 60.0, 2)) STORED",
        1,
    ),
)
_PG17_ROW_REWRITES = (
    (
        "cube(ARRAY(SELECT round(sin(f * j)::numeric, 6)::float8 "
        "FROM generate_series(1, 20) AS j))",
        "ARRAY(SELECT round(sin(f * j)::numeric, 6)::float4 FROM generate_series(1, 20) AS j)"
        "::public.vector(20)",
        1,
    ),
)


def _rewritten(file: str, rewrites: tuple[tuple[str, str, int], ...]) -> str:
    sql = (DATA / file).read_text(encoding="utf-8")
    for old, new, times in rewrites:
        found = sql.count(old)
        assert found == times, f"{file} has {old!r} {found} times, expected {times}"
        sql = sql.replace(old, new)
    return sql


@functools.cache
def pagila_schema_for_pg15() -> str:
    """pagila's schema (tests/integration/data), rewritten to load on PostgreSQL 15."""
    return _rewritten("pagila-schema.sql", _PG15_REWRITES)


@functools.cache
def pagila_for(major: int) -> tuple[str, str]:
    """pagila's (schema, rows) rewritten to load on PostgreSQL ``major`` (15 or 17)."""
    if major == 15:
        return pagila_schema_for_pg15(), _rewritten("pagila-rows.sql", ())
    if major == 17:
        return (
            _rewritten("pagila-schema.sql", _PG17_REWRITES),
            _rewritten("pagila-rows.sql", _PG17_ROW_REWRITES),
        )
    raise ValueError(f"no pagila rewrites for PostgreSQL {major}")


def load_pagila(server: PgServer, db: str = APP_DB, *, major: int = 15) -> None:
    """Creates pagila's schema in ``db`` and fills it with ~8,500 deterministic rows.

    ``major`` is the server's PostgreSQL major version (15 or 17): it chooses
    the rewrites that make the schema load there (see ``pagila_for``).
    """
    schema, rows = pagila_for(major)
    run_psql(server, schema, db=db, single_transaction=True)
    run_psql(server, rows, db=db, single_transaction=True)


def damage_pagila(server: PgServer, db: str = APP_DB) -> None:
    """Changes a loaded pagila every way a restore must undo.

    Deletes and updates rows, drops two tables (one with the views that use it),
    moves a sequence, and adds a table and a schema that no dump of the original has.
    """
    psql(
        server,
        """
        DELETE FROM public.payment WHERE payment_id % 3 = 0;
        UPDATE public.customer SET email = NULL, last_name = 'Changed';
        DROP TABLE public.film_actor CASCADE;
        DROP TABLE public.film_embedding;
        SELECT setval('public.actor_actor_id_seq', 9999);
        CREATE TABLE public.not_in_the_dump (id int PRIMARY KEY, note text);
        INSERT INTO public.not_in_the_dump VALUES (1, 'must be gone after a restore');
        CREATE SCHEMA scratch;
        CREATE TABLE scratch.notes (note text);
        """,
        db=db,
    )


_USER_RELATIONS = """
    SELECT n.nspname, c.relname, format('%I.%I', n.nspname, c.relname)
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'm')
      AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
    ORDER BY 1, 2
"""


def table_fingerprints(server: PgServer, db: str = APP_DB) -> dict[str, tuple[int, str]]:
    """{schema.table: (row count, md5 of its rows in text form, sorted)} for every user table.

    Covers plain and partitioned tables, partitions and materialized views.
    Two databases with equal fingerprints hold the same rows, table by table.
    """
    relations = [line.split("\t") for line in psql(server, _USER_RELATIONS, db=db).splitlines()]
    if not relations:
        return {}
    parts = [
        f"SELECT {_literal(f'{schema}.{name}')}, count(*), "
        f"md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) FROM {quoted} AS t"
        for schema, name, quoted in relations
    ]
    rows = psql(server, "\nUNION ALL\n".join(parts), db=db).splitlines()
    return {key: (int(count), digest) for key, count, digest in (r.split("\t") for r in rows)}


def catalog_snapshot(server: PgServer, db: str = APP_DB) -> list[str]:
    """Names of the user objects of ``db`` with their kind, and each sequence's position.

    Relations (tables, views, sequences, indexes...), functions, constraints,
    triggers and extensions: what a restore must bring back besides rows.
    """
    return psql(
        server,
        """
        SELECT 'relation ' || c.relkind::text || ' ' || format('%I.%I', n.nspname, c.relname)
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
        UNION ALL
        SELECT 'function ' || p.oid::regprocedure::text
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
        UNION ALL
        SELECT 'constraint ' || conrelid::regclass::text || ' ' || conname
        FROM pg_constraint WHERE connamespace <> 'pg_catalog'::regnamespace
        UNION ALL
        SELECT 'trigger ' || tgrelid::regclass::text || ' ' || tgname
        FROM pg_trigger WHERE NOT tgisinternal
        UNION ALL
        SELECT 'extension ' || extname FROM pg_extension
        UNION ALL
        SELECT 'sequence ' || format('%I.%I', schemaname, sequencename) || ' at '
               || coalesce(last_value::text, 'start')
        FROM pg_sequences
        ORDER BY 1
        """,
        db=db,
    ).splitlines()


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# --- the controller as a real process ---------------------------------------------------------


@attrs.frozen
class Run:
    """What one run of the controller did."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def __str__(self) -> str:
        return (
            f"controller {' '.join(self.args)} exited {self.returncode}\n"
            f"--- stdout ---\n{self.stdout}--- stderr ---\n{self.stderr}"
        )


@attrs.define
class Controller:
    """Runs ``controller`` in ``workdir`` with exactly the environment in ``env``.

    Every run also checks what must hold for any command: no traceback, and no
    configured password in its output.
    """

    workdir: Path
    env: dict[str, str]

    def add_database(
        self,
        ident: str,
        server: PgServer,
        *,
        db: str = APP_DB,
        port: int | None = None,
        password: str | None = None,
    ) -> None:
        """Appends ``ident`` to DATABASE_LIST, with the variables that point it at ``server``."""
        prefix = ident.upper().replace("-", "_")
        self.env[f"{prefix}_POSTGRES_HOST"] = server.host
        self.env[f"{prefix}_POSTGRES_PORT"] = str(port or server.port)
        self.env[f"{prefix}_POSTGRES_USER"] = server.user
        self.env[f"{prefix}_POSTGRES_PASSWORD"] = password or server.password
        self.env[f"{prefix}_POSTGRES_DB"] = db
        idents = [i for i in self.env.get("DATABASE_LIST", "").split(",") if i]
        self.env["DATABASE_LIST"] = ",".join([*idents, ident])

    def __call__(self, *args: str, as_user: str | None = None) -> Run:
        if not CONTROLLER.exists():
            pytest.fail(f"{CONTROLLER} does not exist: run ./scripts/test", pytrace=False)
        hand_to_postgres(self.workdir)
        argv = [str(CONTROLLER), *args]
        if as_user is not None:
            argv = ["/usr/sbin/runuser", "-u", as_user, "--", *argv]
        completed = subprocess.run(
            argv,
            cwd=self.workdir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=CONTROLLER_TIMEOUT_S,
            check=False,
        )
        run = Run(tuple(args), completed.returncode, completed.stdout, completed.stderr)
        print(run)  # pytest shows it with the report of a failing test
        assert "Traceback" not in run.output, run
        for name, value in self.env.items():
            if name.endswith("_POSTGRES_PASSWORD") and value:
                assert value not in run.output, f"{name}'s value is in the output\n{run}"
        return run

    def data_dir(self, ident: str) -> Path:
        return self.workdir / "backup-data" / "data" / ident

    def shared_file(self, ident: str) -> Path:
        return self.workdir / "backup-data" / "shared" / ident / "file.dump"

    def database_dir(self, ident: str) -> Path:
        return self.workdir / "backup-data" / "databases" / ident

    def backups(self, ident: str) -> list[str]:
        """Names in ``ident``'s backup directory but checksum files, sorted; [] if absent.

        Temporary and foreign files count: a test that expects no backup
        expects nothing else either.
        """
        return [name for name in self.files(ident) if not name.endswith(".sha256")]

    def files(self, ident: str) -> list[str]:
        """Names of everything in ``ident``'s backup directory, sorted; [] if absent."""
        directory = self.data_dir(ident)
        return sorted(p.name for p in directory.iterdir()) if directory.is_dir() else []


def hand_to_postgres(directory: Path) -> None:
    """Give ``directory`` and all in it to postgres, as the container's entrypoint does.

    Started as root, the controller becomes the postgres user; that user must
    reach ``directory`` (pytest makes its parents 0700) and own what the test
    planted there.
    """
    for parent in [directory, *directory.parents]:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            parent.chmod(mode | 0o001)
    subprocess.run(["chown", "-R", "postgres:postgres", str(directory)], check=True, timeout=60)


def assert_one_line_error(run: Run, code: int) -> None:
    """The run failed with ``code`` and said why in one line on stderr, starting 'error: '."""
    assert run.returncode == code, run
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run
    assert lines[0].startswith("error: "), run


def pg_restore_list(dump: Path) -> str:
    """The table of contents of a custom-format dump; fails if pg_restore cannot read it."""
    result = subprocess.run(
        [str(PG_BIN / "pg_restore"), "--list", str(dump)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"{dump} is not a readable dump: {result.stderr}"
    return result.stdout
