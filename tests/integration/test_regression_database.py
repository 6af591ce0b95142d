"""Round trips of PostgreSQL's own ``regression`` database (970 relations, inheritance,
partitions, large objects, odd types and names) through the controller, each compared
with the same done by hand: ``pg_dumpall -g``, ``pg_dump -Fc``, ``pg_restore --create``.

The database is built once per PostgreSQL version by ``regression_db`` and run in
clusters of this host (its C functions need the libraries built beside it).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator

import attrs
import pytest

from .data import table_fingerprints
from .process import Controller
from .regression_db import (
    regression_cluster,
    started_copy,
    started_new,
    temporary_root,
)
from .servers import PG_BIN, PgServer, psql
from .test_globals import copy_backup, database

pytestmark = pytest.mark.integration

DB = "regression"
# The database's own properties, set on the source before the dump.
PROPERTIES = """
CREATE ROLE regress_db_owner;
CREATE ROLE regress_db_reader;
ALTER DATABASE regression OWNER TO regress_db_owner;
COMMENT ON DATABASE regression IS 'PostgreSQL''s regression database';
ALTER DATABASE regression CONNECTION LIMIT 50;
ALTER DATABASE regression SET work_mem = '7MB';
ALTER ROLE regress_db_reader IN DATABASE regression SET statement_timeout = '9s';
GRANT CONNECT ON DATABASE regression TO regress_db_reader;
REVOKE TEMPORARY ON DATABASE regression FROM PUBLIC;
"""


@attrs.frozen(kw_only=True)
class Servers:
    source: PgServer
    new: PgServer
    by_hand: PgServer


@pytest.fixture(scope="module")
def servers() -> Iterator[Servers]:
    """The regression database in a cluster of its own, and two new, empty clusters."""
    template = regression_cluster()
    root = temporary_root()
    try:
        with (
            started_copy(template, root / "source") as source,
            started_new(root / "new") as new,
            started_new(root / "by-hand") as by_hand,
        ):
            psql(source.server, PROPERTIES, db="postgres")
            yield Servers(source=source.server, new=new.server, by_hand=by_hand.server)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def tool(name: str, server: PgServer, *args: str, stdin: bytes | None = None) -> bytes:
    result = subprocess.run(
        [str(PG_BIN / name), "-h", server.host, "-p", str(server.port), "-U", server.user, *args],
        input=stdin,
        env={"PATH": "/usr/bin:/bin", "PGPASSWORD": server.password, "LANG": "C.UTF-8"},
        capture_output=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, f"{name} {args}: {result.stderr.decode(errors='replace')}"
    return result.stdout


def schema(server: PgServer) -> list[str]:
    """``pg_dump --schema-only`` of the regression database, without its random keys."""
    text = tool("pg_dump", server, "--schema-only", f"--dbname={DB}").decode()
    return [line for line in text.splitlines() if not line.startswith(("\\restrict", "\\unres"))]


def large_objects(server: PgServer) -> str:
    return psql(
        server,
        "SELECT oid, pg_get_userbyid(lomowner), md5(lo_get(oid)) "
        "FROM pg_largeobject_metadata ORDER BY oid",
        db=DB,
    )


def state(server: PgServer) -> tuple[object, ...]:
    """What a round trip must bring back: schema, rows, large objects, the database itself."""
    return (
        schema(server),
        table_fingerprints(server, DB),
        large_objects(server),
        database(server, DB),
    )


@pytest.fixture(scope="module")
def by_hand(servers: Servers, tmp_path_factory: pytest.TempPathFactory) -> tuple[object, ...]:
    """The regression database restored by hand into an empty cluster: the reference."""
    archive = tmp_path_factory.mktemp("by-hand") / "regression.dump"
    globals_sql = tool("pg_dumpall", servers.source, "--globals-only")
    # Without ON_ERROR_STOP: CREATE ROLE postgres fails, as it exists, and the rest goes on.
    tool("psql", servers.by_hand, "-X", "-q", "--dbname=postgres", stdin=globals_sql)
    tool("pg_dump", servers.source, "-Fc", f"--file={archive}", f"--dbname={DB}")
    tool(
        "pg_restore", servers.by_hand, "--create", "--exit-on-error", "-d", "postgres", str(archive)
    )
    return state(servers.by_hand)


@pytest.fixture
def dumped(servers: Servers, controller: Controller) -> str:
    controller.add_database("reg", servers.source, db=DB)
    run = controller("dump", "reg")
    assert run.returncode == 0, run
    [name] = controller.backups("reg")
    return name


def test_a_restore_onto_a_new_server_matches_pg_restore_create(
    servers: Servers, controller: Controller, dumped: str, by_hand: tuple[object, ...]
) -> None:
    controller.add_database("new", servers.new, db=DB)
    copy_backup(controller, "reg", "new")

    run = controller("restore", "new", dumped, "--with-globals")

    assert run.returncode == 0, run
    assert state(servers.new) == by_hand


def test_an_in_place_restore_matches_pg_restore_create(
    servers: Servers, controller: Controller, dumped: str, by_hand: tuple[object, ...]
) -> None:
    run = controller("restore", "reg", dumped, "--no-safety-dump")

    assert run.returncode == 0, run
    assert state(servers.source) == by_hand


def test_verify_restore_passes_the_regression_database(controller: Controller, dumped: str) -> None:
    run = controller("verify", "reg", dumped, "--restore")

    assert run.returncode == 0, run
    assert "row counts match" in run.stdout


def test_the_regression_database_is_what_make_installcheck_leaves(servers: Servers) -> None:
    relations = psql(
        servers.source,
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')",
        db=DB,
    )
    inherited = psql(servers.source, "SELECT count(DISTINCT inhparent) FROM pg_inherits", db=DB)

    assert int(relations) > 500
    assert int(inherited) > 10
