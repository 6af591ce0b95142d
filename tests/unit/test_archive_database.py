from __future__ import annotations

import pytest

from pg_backup_manager.adapters.postgres.archive_database import (
    archived_properties,
    database_entries,
)
from pg_backup_manager.domain.errors import IntegrityError

# What pg_restore 15 --create --schema-only -L <the database entries> prints
# (shortened headers), for a database called  odd "db".
SCRIPT = r'''
\restrict xvKLai1IxA4XxcqQkjwMdrx3hzFnyRa4FBhBJuitSh4sDofQvdF0KPATlRRAFrc
SET statement_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
--
-- Name: odd "db"; Type: DATABASE; Schema: -; Owner: Own er
--
CREATE DATABASE "odd ""db""" WITH TEMPLATE = template0 ENCODING = 'UTF8'
  LOCALE_PROVIDER = libc LOCALE = 'C.UTF-8' TABLESPACE = fast;
ALTER DATABASE "odd ""db""" OWNER TO "Own er";
\unrestrict xvKLai1IxA4XxcqQkjwMdrx3hzFnyRa4FBhBJuitSh4sDofQvdF0KPATlRRAFrc
\connect -reuse-previous=on "dbname='odd ""db""'"
SET client_encoding = 'UTF8';
COMMENT ON DATABASE "odd ""db""" IS 'it''s; a \ comment :a
two lines';
ALTER DATABASE "odd ""db""" CONNECTION LIMIT = 7;
ALTER DATABASE "odd ""db""" SET work_mem TO '77MB';
ALTER DATABASE "odd ""db""" SET search_path TO 'a schema', 'public';
ALTER ROLE reader IN DATABASE "odd ""db""" SET work_mem TO '5MB';
REVOKE CONNECT,TEMPORARY ON DATABASE "odd ""db""" FROM PUBLIC;
GRANT CONNECT ON DATABASE "odd ""db""" TO PUBLIC;
SET SESSION AUTHORIZATION "Own er";
GRANT CONNECT ON DATABASE "odd ""db""" TO "Mixed Case";
RESET SESSION AUTHORIZATION;
'''


def test_the_archives_statements_about_its_database_are_rebuilt_for_any_name() -> None:
    properties = archived_properties(SCRIPT, owners=True, origin="x.dump")

    assert properties is not None
    assert properties.create_options == "ENCODING 'UTF8' LOCALE_PROVIDER libc LOCALE 'C.UTF-8'"
    assert properties.script.splitlines() == [
        'COMMENT ON DATABASE :"a" IS NULL;',
        'alter database :"a" owner to "Own er";',
        "comment on database :\"a\" is 'it''s; a \\ comment :a",
        "two lines';",
        'alter database :"a" connection limit = 7;',
        "alter database :\"a\" set work_mem to '77MB';",
        "alter database :\"a\" set search_path to 'a schema' , 'public';",
        "alter role reader in database :\"a\" set work_mem to '5MB';",
        'revoke connect , temporary on database :"a" from public;',
        'grant connect on database :"a" to public;',
        'grant connect on database :"a" to "Mixed Case";',
    ]


def test_without_owners_nothing_that_names_a_role_is_kept_but_public_stays_revoked() -> None:
    properties = archived_properties(SCRIPT, owners=False, origin="x.dump")

    assert properties is not None
    script = properties.script
    assert "owner" not in script and "reader" not in script and "Mixed" not in script
    assert 'revoke connect , temporary on database :"a" from public;' in script
    assert 'grant connect on database :"a" to public;' in script
    assert "connection limit = 7" in script and "77MB" in script


def test_an_archive_without_its_database_entries_has_no_properties() -> None:
    assert archived_properties("SET client_encoding = 'UTF8';\n", owners=True, origin="x") is None


@pytest.mark.parametrize(
    "statement",
    [
        'DROP DATABASE "odd ""db""";',
        "ALTER DATABASE other SET work_mem TO '1MB';",
        'ALTER DATABASE "odd ""db""" SET work_mem TO :evil;',
        'ALTER DATABASE "odd ""db""" SET work_mem TO \\evil;',
    ],
)
def test_a_statement_pg_dump_does_not_write_about_a_database_is_refused(statement: str) -> None:
    script = SCRIPT + statement + "\n"

    with pytest.raises(IntegrityError):
        archived_properties(script, owners=True, origin="x.dump")


def test_only_the_entries_about_the_database_itself_are_listed() -> None:
    listing = "\n".join(
        [
            ";     dbname: x",
            '3344; 1262 16386 DATABASE - odd "db" Own er',
            '3345; 0 0 COMMENT - DATABASE "odd ""db""" Own er',
            '3346; 0 0 ACL - DATABASE "odd ""db""" Own er',
            '3347; 0 0 DATABASE PROPERTIES - odd "db" Own er',
            "214; 1259 16387 TABLE public DATABASE - x postgres",
            "215; 0 0 COMMENT - SCHEMA public postgres",
        ]
    )

    assert database_entries(listing).splitlines() == listing.splitlines()[1:5]
