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
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

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


# --- the controller container (docker/compose.e2e.yml) ----------------------------------------

REPO = Path(__file__).resolve().parents[2]
E2E_COMPOSE_FILE = REPO / "docker" / "compose.e2e.yml"
E2E_PROJECT = "pg-backup-manager-e2e"
E2E_PG15 = PgServer(service="pg15", port=55441, password="e2e-secret-15")
# pg17 and the controller both read this password from the same Docker secret.
E2E_PG17 = PgServer(
    service="pg17",
    port=55442,
    password=(REPO / "docker" / "e2e" / "pg17-password").read_text(encoding="utf-8").strip(),
)
BACKUP_ROOT = PurePosixPath("/var/lib/postgresql/backup")
DATABASES_ROOT = PurePosixPath("/var/lib/postgresql/databases")
POSTGRES_IDS = "999:999"  # uid:gid of postgres in the controller and the server images
DOCKER_TIMEOUT_S = 900.0


def data_dir_in_container(ident: str) -> PurePosixPath:
    return BACKUP_ROOT / "data" / ident


def shared_file_in_container(ident: str) -> PurePosixPath:
    return BACKUP_ROOT / "shared" / ident / "file.dump"


def is_backup_name(name: str) -> bool:
    return re.fullmatch(BACKUP_NAME_PATTERN, name) is not None


def is_partial_name(name: str) -> bool:
    """The hidden temporary name of a backup being written (``.file_....partial``)."""
    return name.startswith(".file_") and name.endswith(".partial")


def docker_timestamp(at: datetime | None = None) -> str:
    """``at`` (default now) as ``docker logs --since`` takes it; the engine runs on this machine."""
    return (at or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Returns once ``condition()`` holds; fails the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}", pytrace=False)
        time.sleep(0.5)


def answers_select_1(server: PgServer) -> bool:
    result = run_psql(server, "select 1", db="postgres", check=False)
    return result.returncode == 0 and result.stdout.strip() == "1"


@attrs.define
class ContainerStack:
    """The stack of docker/compose.e2e.yml, driven as an operator drives it.

    The controller is reached only through the docker CLI: ``exec`` (its
    ``/controller`` and plain ``ls``/``stat``/``cat``), ``logs``, ``stop``,
    ``start``, ``inspect`` and ``cp``. ``schedule`` is its BACKUP_SCHEDULE (the
    compose file's ``E2E_SCHEDULE``). Every docker output is checked for the
    servers' passwords, which must never show.
    """

    schedule: str
    _controller_id: str | None = None

    def compose(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Runs docker-compose on the e2e project; AssertionError if ``check`` and it fails."""
        result = subprocess.run(
            [*self.compose_argv(), *args],
            env={**os.environ, "E2E_SCHEDULE": self.schedule},
            capture_output=True,
            text=True,
            timeout=DOCKER_TIMEOUT_S,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"docker-compose {' '.join(args)} exited {result.returncode}:\n"
                f"{result.stdout[-3000:]}{result.stderr[-3000:]}"
            )
        return result

    def compose_argv(self) -> list[str]:
        return ["docker-compose", "-f", str(E2E_COMPOSE_FILE), "-p", E2E_PROJECT]

    @property
    def controller_id(self) -> str:
        """The id of the controller's container (the same across ``docker stop``/``start``)."""
        if self._controller_id is None:
            found = self.compose("ps", "-q", "controller").stdout.strip()
            assert found, "the e2e stack has no controller container"
            self._controller_id = found
        return self._controller_id

    def docker(
        self, *args: str, check: bool = True, timeout: float = 120.0
    ) -> subprocess.CompletedProcess[str]:
        """Runs ``docker args``; its output must hold no password."""
        result = subprocess.run(
            ["docker", *args], capture_output=True, text=True, timeout=timeout, check=False
        )
        assert_no_password(result.stdout + result.stderr, f"docker {' '.join(args)}")
        if check and result.returncode != 0:
            raise AssertionError(
                f"docker {' '.join(args)} exited {result.returncode}: "
                f"{result.stdout}{result.stderr}"
            )
        return result

    def controller(
        self, *args: str, env: Mapping[str, str] | None = None, user: str | None = None
    ) -> Run:
        """Runs ``/controller args`` with a plain ``docker exec`` (as root unless ``user``)."""
        options = [f"--env={name}={value}" for name, value in (env or {}).items()]
        if user is not None:
            options.append(f"--user={user}")
        completed = self.docker(
            "exec",
            *options,
            self.controller_id,
            "/controller",
            *args,
            check=False,
            timeout=CONTROLLER_TIMEOUT_S,
        )
        run = Run(tuple(args), completed.returncode, completed.stdout, completed.stderr)
        print(run)  # pytest shows it with the report of a failing test
        assert "Traceback" not in run.output, run
        return run

    def sh(self, script: str, *, user: str | None = None) -> str:
        """Runs ``sh -c script`` in the controller container; returns its standard output."""
        options = [] if user is None else [f"--user={user}"]
        return self.docker("exec", *options, self.controller_id, "sh", "-c", script).stdout

    def files(self, directory: PurePosixPath) -> dict[str, str]:
        """{name: "uid:gid"} of every entry of ``directory``, hidden ones too; {} if absent."""
        listing = self.sh(
            f"[ ! -d '{directory}' ] || find '{directory}' -mindepth 1 -maxdepth 1 "
            "-printf '%U:%G %f\\n'"
        )
        return {name: ids for ids, name in (line.split(" ", 1) for line in listing.splitlines())}

    def backups(self, ident: str) -> set[str]:
        """Names of the files of ``ident``'s backup directory named as backups are."""
        return {name for name in self.files(data_dir_in_container(ident)) if is_backup_name(name)}

    def plant(self, ident: str, *names: str) -> None:
        """Creates empty files ``names`` in ``ident``'s backup directory, as the postgres user."""
        paths = " ".join(f"'{data_dir_in_container(ident) / name}'" for name in names)
        self.sh(f"touch {paths}", user="postgres")

    def remove(self, ident: str, *names: str) -> None:
        paths = " ".join(f"'{data_dir_in_container(ident) / name}'" for name in names)
        self.sh(f"rm -f {paths}", user="postgres")

    def sha256(self, path: PurePosixPath) -> str:
        return self.sh(f"sha256sum '{path}'").split()[0]

    def logs(self, since: str | None = None) -> str:
        """The controller's log (its standard output and error), from ``since`` if given."""
        options = [] if since is None else [f"--since={since}"]
        result = self.docker("logs", *options, self.controller_id)
        return result.stdout + result.stderr

    def inspect(self, template: str) -> str:
        return self.docker("inspect", f"--format={template}", self.controller_id).stdout.strip()

    def wait_until_scheduling(self, since: str | None = None, timeout: float = 60.0) -> None:
        """Waits until the controller's log (from ``since``) announces its next scheduled run."""
        wait_until(
            lambda: "next scheduled backup at" in self.logs(since),
            timeout,
            "the controller to announce its next scheduled backup",
        )

    def use_schedule(self, schedule: str) -> None:
        """Gives the controller BACKUP_SCHEDULE ``schedule`` (re-creating it if that changes it).

        Returns once the (new) controller announces its next run.
        """
        if schedule == self.schedule:
            return
        self.schedule = schedule
        self.compose("up", "-d", "--no-deps", "controller")
        self._controller_id = None
        self.wait_until_scheduling()

    def stop_server(self, server: PgServer) -> None:
        """Stops a database service cleanly (SIGINT: a fast shutdown)."""
        self.compose("stop", server.service)

    def start_server(self, server: PgServer, timeout: float = 60.0) -> None:
        """Starts a database service and returns once it answers ``select 1``."""
        self.compose("start", server.service)
        wait_until(lambda: answers_select_1(server), timeout, f"{server.service} to answer")


def assert_no_password(text: str, what: str) -> None:
    for server in (E2E_PG15, E2E_PG17):
        assert server.password not in text, f"{server.service}'s password is in {what}:\n{text}"


@contextmanager
def table_locked(server: PgServer, table: str, db: str = APP_DB) -> Iterator[None]:
    """Holds an ACCESS EXCLUSIVE lock on ``table`` from this host: a pg_dump of ``db`` waits.

    On exit the holder's session is ended on the server: a killed psql would
    not release the lock until its ``pg_sleep`` ends.
    """
    holder = subprocess.Popen(
        [
            str(PG_BIN / "psql"),
            "-X",
            "-q",
            "-h",
            server.host,
            "-p",
            str(server.port),
            "-U",
            server.user,
            "-d",
            db,
            "-c",
            f"BEGIN; LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(120);",
        ],
        env={"PATH": "/usr/bin:/bin", "PGPASSWORD": server.password, "PGAPPNAME": _LOCK_HOLDER},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: sessions_of(server, _LOCK_HOLDER, waiting=False) == 1, 30, "the lock")
        yield
    finally:
        psql(
            server,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE application_name = '{_LOCK_HOLDER}'",
            db="postgres",
        )
        holder.wait(30)


_LOCK_HOLDER = "e2e-lock-holder"


def sessions_of(server: PgServer, application_name: str, *, waiting: bool | None = None) -> int:
    """How many sessions ``application_name`` has on ``server`` (only those waiting on a lock,
    or only those not waiting, when ``waiting`` says so)."""
    condition = ""
    if waiting is not None:
        condition = f" AND (wait_event_type = 'Lock') = {str(waiting).lower()}"
    return int(
        psql(
            server,
            "SELECT count(*) FROM pg_stat_activity "
            f"WHERE application_name = '{application_name}'{condition}",
            db="postgres",
        ).strip()
    )
