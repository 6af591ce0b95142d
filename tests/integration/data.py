"""What the tests put in a database and how they compare databases.

pagila (``tests/integration/data``), rewritten to load on PostgreSQL 15 or 17,
a change of it that a restore must undo, and fingerprints of rows, of the
catalog and of a database's own properties.
"""

from __future__ import annotations

import functools
from pathlib import Path

from .servers import APP_DB, PgServer, psql, run_psql

DATA = Path(__file__).resolve().parent / "data"

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


_DATABASE_PROPERTIES = """
    SELECT pg_get_userbyid(d.datdba), d.datacl, d.datconnlimit,
           shobj_description(d.oid, 'pg_database'),
           (SELECT string_agg(coalesce(s.setrole::regrole::text, '-') || ':'
                              || array_to_string(s.setconfig, ';'), ' ' ORDER BY 1)
            FROM pg_db_role_setting s WHERE s.setdatabase = d.oid)
    FROM pg_database d WHERE datname = {name}
"""


def database_properties(server: PgServer, db: str = APP_DB) -> str:
    """``db``'s owner, privileges, connection limit, comment and settings, as one psql row.

    What a restore must keep besides the content. Read while connected to
    ``postgres``; empty if ``db`` does not exist.
    """
    return psql(server, _DATABASE_PROPERTIES.format(name=_literal(db)), db="postgres")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
