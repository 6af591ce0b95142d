"""The globals file as pg_dumpall writes it, read by the lexer, and the plan of the
roles a restore creates from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from pg_backup_manager.adapters.postgres.globals_sql import read_globals
from pg_backup_manager.domain.errors import IntegrityError
from pg_backup_manager.domain.restore.globals import Kind, plan_roles

DATA = Path(__file__).parent / "data"
# Real output of pg_dumpall --globals-only 15 and 18, of one PostgreSQL 15 cluster.
REAL = ["globals-pg15.sql", "globals-pg18.sql"]
ROLES = ['Weird "Role", x', "admin", "app_owner", "readers", "tablespace", "zoë"]

# In the form pg_dumpall writes, with lines of several versions and made-up cases
# (IN DATABASE settings, which pg_dumpall has left out since 11; WITH INHERIT, since 16).
GLOBALS = """--
-- PostgreSQL database cluster dump
--

\\restrict KrcWx8JJ5agpDcCpKRpOn4WqKGI4mRyjCBy7t6hu8HvNBWdBQU8efYBporq2JI3

SET default_transaction_read_only = off;

SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;

--
-- Roles
--

CREATE ROLE "Weird ""Role"", x";
ALTER ROLE "Weird ""Role"", x" WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB NOLOGIN \
NOREPLICATION NOBYPASSRLS;
CREATE ROLE app_owner;
ALTER ROLE app_owner WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB LOGIN NOREPLICATION \
NOBYPASSRLS CONNECTION LIMIT 5 PASSWORD 'SCRAM-SHA-256$4096:rYiB==$MGd8:V1OF';
COMMENT ON ROLE app_owner IS 'multi
line; comment ''quoted''; CREATE ROLE evil;';
CREATE ROLE postgres;
ALTER ROLE postgres WITH SUPERUSER INHERIT CREATEROLE CREATEDB LOGIN REPLICATION BYPASSRLS;
CREATE ROLE readers;
ALTER ROLE readers WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB NOLOGIN NOREPLICATION \
NOBYPASSRLS;
CREATE ROLE tablespace;
ALTER ROLE tablespace WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB LOGIN NOREPLICATION \
NOBYPASSRLS;

--
-- User Configurations
--

ALTER ROLE app_owner SET search_path TO '$user', 'public', 'eu,sales';
ALTER ROLE readers SET work_mem TO '8MB';
ALTER ROLE app_owner IN DATABASE shop SET work_mem TO '16MB';
ALTER ROLE app_owner IN DATABASE gone SET work_mem TO '16MB';

--
-- Role memberships
--

GRANT readers TO "Weird ""Role"", x" WITH ADMIN OPTION GRANTED BY postgres;
GRANT readers TO app_owner WITH INHERIT TRUE GRANTED BY "Old Admin";
GRANT app_owner TO readers GRANTED BY postgres;

--
-- Role privileges on configuration parameters
--

GRANT SET ON PARAMETER work_mem TO app_owner;

--
-- Tablespaces
--

CREATE TABLESPACE fast OWNER postgres LOCATION '/mnt/fast';

\\unrestrict KrcWx8JJ5agpDcCpKRpOn4WqKGI4mRyjCBy7t6hu8HvNBWdBQU8efYBporq2JI3
"""


def test_statements_are_split_by_the_quoting_rules_and_meta_commands_dropped() -> None:
    statements = read_globals(GLOBALS, origin="g.sql")

    comment = next(s for s in statements if s.sql.startswith("COMMENT"))
    assert comment.sql.endswith("CREATE ROLE evil;';")
    assert comment.role == "app_owner"
    assert not any("restrict" in s.sql for s in statements)
    assert not any(s.role == "evil" for s in statements)


def test_each_statement_names_its_role_exactly() -> None:
    statements = read_globals(GLOBALS, origin="g.sql")

    roles = [s.role for s in statements if s.kind is Kind.ROLE and s.sql.startswith("CREATE")]
    assert roles == ['Weird "Role", x', "app_owner", "postgres", "readers", "tablespace"]
    [weird] = [s for s in statements if s.kind is Kind.MEMBERSHIP and s.grantor == "postgres"][:1]
    assert (weird.role, weird.granted) == ('Weird "Role", x', "readers")
    assert weird.sql_without_grantor == 'GRANT readers TO "Weird ""Role"", x" WITH ADMIN OPTION;'
    assert [s.kind for s in statements][-1] is Kind.TABLESPACE


def test_only_the_missing_roles_are_created_and_existing_ones_are_never_touched() -> None:
    plan = plan_roles(
        read_globals(GLOBALS, origin="g.sql"),
        existing_roles={"postgres", "readers"},
        existing_databases={"postgres", "shop"},
    )

    assert plan.created == ('Weird "Role", x', "app_owner", "tablespace")
    assert plan.existing == ("postgres", "readers")
    run = "\n".join(plan.statements)
    assert "ALTER ROLE postgres" not in run
    assert "ALTER ROLE readers" not in run
    assert "CREATE ROLE readers" not in run
    assert "GRANT app_owner TO readers" not in run  # readers exists: it gains nothing
    assert "IN DATABASE shop" in run and "IN DATABASE gone" not in run
    assert "TABLESPACE" not in run
    assert "GRANT SET ON PARAMETER work_mem TO app_owner;" in plan.statements
    assert 'GRANT readers TO "Weird ""Role"", x" WITH ADMIN OPTION GRANTED BY postgres;' in (
        plan.statements
    )
    # The grantor does not exist here: the restoring user grants instead.
    assert "GRANT readers TO app_owner WITH INHERIT TRUE;" in plan.statements
    assert plan.statements[:3] == (
        "SET default_transaction_read_only = off;",
        "SET client_encoding = 'UTF8';",
        "SET standard_conforming_strings = on;",
    )


def test_a_role_that_logs_in_without_a_saved_password_is_named() -> None:
    plan = plan_roles(
        read_globals(GLOBALS, origin="g.sql"), existing_roles={"postgres"}, existing_databases=()
    )

    assert plan.without_password == ("tablespace",)


def test_when_every_role_exists_nothing_is_run() -> None:
    statements = read_globals(GLOBALS, origin="g.sql")
    every = {s.role for s in statements if s.role is not None}

    plan = plan_roles(statements, existing_roles=every, existing_databases=())

    assert plan.changes_nothing
    assert plan.statements == ()


@pytest.mark.parametrize(
    "cut", ["CREATE ROLE a;\nCOMMENT ON ROLE a IS 'never closed;\n", "CREATE ROLE a", '"a;']
)
def test_a_file_cut_short_is_an_integrity_error(cut: str) -> None:
    with pytest.raises(IntegrityError, match="cut short"):
        read_globals(cut, origin="g.sql")


def test_escaped_and_dollar_quoted_strings_hide_their_semicolons() -> None:
    text = (
        "COMMENT ON ROLE a IS E'it\\'s; CREATE ROLE x;';\n"
        "COMMENT ON ROLE b IS $q$; DROP ROLE c;$q$;\n"
        "/* a; /* nested; */ comment */ CREATE ROLE d;\n"
    )

    statements = read_globals(text, origin="g.sql")

    assert [s.role for s in statements] == ["a", "b", "d"]


@pytest.mark.parametrize("file", REAL)
def test_real_globals_create_every_missing_role_and_run_every_grant_as_the_restorer(
    file: str,
) -> None:
    statements = read_globals((DATA / file).read_text(encoding="utf-8"), origin=file)

    plan = plan_roles(statements, existing_roles={"postgres"}, existing_databases={"postgres"})

    assert plan.created == tuple(ROLES)
    assert plan.existing == ("postgres",)
    run = "\n".join(plan.statements)
    assert "SESSION AUTHORIZATION" not in run and "ALTER ROLE postgres" not in run
    assert 'GRANT SET ON PARAMETER log_statement TO "zoë";' in plan.statements
    assert 'GRANT readers TO "zoë"' in run
    assert plan.without_password == ("tablespace",)
    assert len(plan.secrets) == 3 and all(h.startswith("SCRAM-SHA-256$") for h in plan.secrets)
    assert all(secret in run for secret in plan.secrets)
    assert "CREATE ROLE evil" not in [s.sql for s in statements]


@pytest.mark.parametrize("file", REAL)
def test_real_globals_on_a_server_with_every_role_run_nothing(file: str) -> None:
    statements = read_globals((DATA / file).read_text(encoding="utf-8"), origin=file)

    plan = plan_roles(statements, existing_roles={"postgres", *ROLES}, existing_databases=())

    assert plan.changes_nothing and plan.statements == () and plan.secrets == ()
