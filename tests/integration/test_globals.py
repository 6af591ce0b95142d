"""The cluster's globals beside every backup, and ``restore --with-globals`` onto a server
of another major version that lacks the dump's roles (PostgreSQL 15 to 17)."""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from collections.abc import Iterator

import pytest

from .process import Controller
from .servers import PG_NEW, PgServer, PgServers, psql, run_psql

pytestmark = pytest.mark.integration


def _grants(acl: str) -> str:
    """SQL for an ACL as sorted ``grantor>grantee:PRIVILEGE`` strings (NULL: the default).

    MAINTAIN, which PostgreSQL 17 gives every owner, is left out: it does not
    exist in 15, and no dump carries it.
    """
    return (
        f"CASE WHEN {acl} IS NULL THEN NULL ELSE (SELECT coalesce(json_agg(g ORDER BY g), '[]') "
        "FROM (SELECT format('%s>%s:%s%s', pg_get_userbyid(a.grantor), "
        "CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END, "
        "a.privilege_type, CASE WHEN a.is_grantable THEN '*' ELSE '' END) AS g "
        f"FROM aclexplode({acl}) a WHERE a.privilege_type <> 'MAINTAIN') grants) END"
    )


# Owners, privileges and default privileges of everything in schema shop, by name.
_PRIVILEGES = f"""
SELECT json_build_object(
  'schemas', (SELECT json_agg(json_build_object(
      'name', nspname, 'owner', pg_get_userbyid(nspowner), 'acl', {_grants("nspacl")})
      ORDER BY nspname)
    FROM pg_namespace WHERE nspname = 'shop'),
  'relations', (SELECT json_agg(json_build_object(
      'name', c.relname, 'kind', c.relkind, 'owner', pg_get_userbyid(c.relowner),
      'acl', {_grants("c.relacl")}) ORDER BY c.relname)
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'shop'),
  'functions', (SELECT json_agg(json_build_object(
      'name', p.proname, 'owner', pg_get_userbyid(p.proowner), 'acl', {_grants("p.proacl")})
      ORDER BY p.proname)
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'shop'),
  'default_privileges', (SELECT json_agg(json_build_object(
      'role', pg_get_userbyid(d.defaclrole), 'schema', n.nspname, 'type', d.defaclobjtype,
      'acl', {_grants("d.defaclacl")}) ORDER BY d.defaclobjtype)
    FROM pg_default_acl d JOIN pg_namespace n ON n.oid = d.defaclnamespace
    WHERE n.nspname = 'shop'),
  'rows', (SELECT count(*) FROM shop.items));
"""


def privileges(server: PgServer, db: str) -> dict[str, object]:
    found: dict[str, object] = json.loads(psql(server, _PRIVILEGES, db=db))
    return found


def role(server: PgServer, name: str) -> tuple[str, ...]:
    """Return what ``pg_roles`` says of role ``name``, and the roles it is a member of."""
    found = psql(
        server,
        "SELECT rolcanlogin, rolconnlimit, rolcreatedb, "
        "coalesce((SELECT string_agg(g.rolname, ',' ORDER BY g.rolname) FROM pg_auth_members m "
        "JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid), ''), "
        "coalesce(shobj_description(r.oid, 'pg_authid'), '') "
        f"FROM pg_roles r WHERE rolname = '{name}'",
        db="postgres",
    ).strip()
    return tuple(found.split("\t")) if found else ()


def logs_in(server: PgServer, user: str, password: str) -> bool:
    login = PgServer(service=server.service, port=server.port, password=password, user=user)
    return run_psql(login, "select 1", db="postgres", check=False).returncode == 0


@pytest.fixture
def suffix() -> str:
    """A suffix for role names: roles are the cluster's, shared by every test of a session."""
    return uuid.uuid4().hex[:8]


def shop_with_its_own_roles(server: PgServer, suffix: str) -> None:
    """A schema owned by a login role, read by a group, with default privileges."""
    owner, reader, mixed = f"owner_{suffix}", f"reader_{suffix}", f"Mixed Case {suffix}"
    psql(
        server,
        f"""
        CREATE ROLE {owner} LOGIN CREATEDB PASSWORD 'pw-{suffix}' CONNECTION LIMIT 5;
        CREATE ROLE {reader} NOLOGIN;
        CREATE ROLE "{mixed}" LOGIN PASSWORD 'mixed-{suffix}';
        COMMENT ON ROLE {owner} IS 'owns the shop; really';
        GRANT {reader} TO "{mixed}";
        CREATE SCHEMA shop AUTHORIZATION {owner};
        SET ROLE {owner};
        CREATE TABLE shop.items (id int PRIMARY KEY, name text);
        INSERT INTO shop.items SELECT g, 'item ' || g FROM generate_series(1, 500) g;
        CREATE VIEW shop.cheap AS SELECT * FROM shop.items WHERE id < 10;
        CREATE FUNCTION shop.total() RETURNS bigint LANGUAGE sql
          AS 'SELECT count(*) FROM shop.items';
        GRANT USAGE ON SCHEMA shop TO {reader};
        GRANT SELECT ON shop.items TO {reader};
        GRANT SELECT, UPDATE ON shop.cheap TO "{mixed}";
        REVOKE EXECUTE ON FUNCTION shop.total() FROM PUBLIC;
        GRANT EXECUTE ON FUNCTION shop.total() TO {reader};
        ALTER DEFAULT PRIVILEGES IN SCHEMA shop GRANT SELECT ON TABLES TO {reader};
        ALTER DEFAULT PRIVILEGES IN SCHEMA shop GRANT EXECUTE ON FUNCTIONS TO "{mixed}";
        RESET ROLE;
        GRANT SET ON PARAMETER log_statement TO {owner} WITH GRANT OPTION;
        SET ROLE {owner};
        GRANT SET ON PARAMETER log_statement TO "{mixed}";
        RESET ROLE;
        """,
    )


def drop_roles(server: PgServer, db: str, suffix: str) -> None:
    for name in (f"owner_{suffix}", f"reader_{suffix}", f"Mixed Case {suffix}"):
        run_psql(
            server,
            f'REVOKE ALL ON PARAMETER log_statement FROM "{name}" CASCADE;\n'
            f'DROP OWNED BY "{name}" CASCADE; DROP ROLE IF EXISTS "{name}";',
            db=db,
            check=False,
        )


@pytest.fixture
def two_environments(pg: PgServers, controller: Controller, suffix: str) -> Iterator[str]:
    """Service ``a`` (pg-a, with the shop and its roles) and service ``new``: a database
    that does not exist yet on the PostgreSQL 17 server. Yields that database's name;
    drops it and the roles on both servers afterwards."""
    target_db = f"shop_{suffix}"
    shop_with_its_own_roles(pg.a, suffix)
    controller.add_database("a", pg.a)
    controller.add_database("new", PG_NEW, db=target_db)
    try:
        yield target_db
    finally:
        run_psql(PG_NEW, f'DROP DATABASE IF EXISTS "{target_db}" WITH (FORCE);', db="postgres")
        drop_roles(PG_NEW, "postgres", suffix)
        drop_roles(pg.a, "appdb", suffix)


def test_a_backup_keeps_the_clusters_globals_beside_it_checksummed_and_listed(
    pg: PgServers, controller: Controller, suffix: str
) -> None:
    shop_with_its_own_roles(pg.a, suffix)
    controller.add_database("a", pg.a)
    try:
        run = controller("dump", "a")
        listing = controller("list", "a")
    finally:
        drop_roles(pg.a, "appdb", suffix)

    assert run.returncode == 0, run
    [name] = controller.backups("a")
    globals_name = name.removesuffix(".dump") + ".globals.sql"
    globals_file = controller.data_dir("a") / globals_name
    text = globals_file.read_text()
    assert f"CREATE ROLE owner_{suffix};" in text
    assert "SCRAM-SHA-256$" in text  # a superuser dumps the role passwords
    checked = subprocess.run(
        ["sha256sum", "-c", f"{globals_name}.sha256"],
        cwd=controller.data_dir("a"),
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
    assert (globals_file.stat().st_mode & 0o777) == 0o600
    assert listing.returncode == 0, listing
    assert listing.stdout.splitlines()[1].split()[-1] == globals_name


def test_a_backup_restored_with_globals_into_an_empty_server_of_another_version_keeps_owners_and_grants(  # noqa: E501
    pg: PgServers, controller: Controller, suffix: str, two_environments: str
) -> None:
    target_db = two_environments
    source = privileges(pg.a, "appdb")
    source_owner = role(pg.a, f"owner_{suffix}")
    source_mixed = role(pg.a, f"Mixed Case {suffix}")
    # The group exists on the new server already, as something else: left alone.
    psql(PG_NEW, f"CREATE ROLE reader_{suffix} NOLOGIN CONNECTION LIMIT 7;", db="postgres")
    existing_reader = role(PG_NEW, f"reader_{suffix}")
    dumped = controller("dump", "a")
    [name] = controller.backups("a")
    # Another environment receives the backup and its globals, with their checksums.
    controller.data_dir("new").mkdir(parents=True)
    stem = name.removesuffix(".dump")
    for file in (name, f"{name}.sha256", f"{stem}.globals.sql", f"{stem}.globals.sql.sha256"):
        shutil.copy(controller.data_dir("a") / file, controller.data_dir("new") / file)

    run = controller("restore", "new", name, "--with-globals")

    assert dumped.returncode == 0, dumped
    assert run.returncode == 0, run
    assert f'new: created roles "Mixed Case {suffix}", owner_{suffix} from' in run.stdout
    assert f"left existing roles as they are: postgres, reader_{suffix}\n" in run.stdout
    assert privileges(PG_NEW, target_db) == source
    assert role(PG_NEW, f"owner_{suffix}") == source_owner
    assert role(PG_NEW, f"Mixed Case {suffix}") == source_mixed
    assert role(PG_NEW, f"reader_{suffix}") == existing_reader
    assert logs_in(PG_NEW, f"owner_{suffix}", f"pw-{suffix}")
    # Granted on the old server by the owner, not by a superuser: granted here too.
    granted = f"SELECT has_parameter_privilege('Mixed Case {suffix}', 'log_statement', 'SET')"
    assert psql(PG_NEW, granted, db="postgres").strip() == "t"
    assert not logs_in(PG_NEW, f"owner_{suffix}", "wrong")
    # Run again: every role exists now; nothing is created or changed.
    psql(PG_NEW, f"ALTER ROLE owner_{suffix} CONNECTION LIMIT 9;", db="postgres")
    again = controller("restore", "new", name, "--with-globals", "--no-safety-dump")
    assert again.returncode == 0, again
    assert "created no roles" in again.stdout
    assert role(PG_NEW, f"owner_{suffix}")[1] == "9"


def test_without_globals_the_missing_role_error_points_to_with_globals(
    controller: Controller, suffix: str, two_environments: str
) -> None:
    assert controller("dump", "a", "--shared").returncode == 0
    shared_new = controller.shared_file("new").parent
    shared_new.mkdir(parents=True)
    for file in ("file.dump", "file.dump.sha256"):
        shutil.copy(controller.shared_file("a").parent / file, shared_new / file)

    without = controller("restore-from-shared", "new")
    asked = controller("restore-from-shared", "new", "--with-globals")

    assert without.returncode == 1, without
    assert "--with-globals" in without.stderr
    assert asked.returncode == 1, asked
    assert "no shared globals" in asked.stderr
    assert len(asked.stderr.strip().splitlines()) == 1
    assert role(PG_NEW, f"owner_{suffix}") == ()


def test_globals_changed_after_the_dump_are_refused_and_nothing_is_created(
    controller: Controller, suffix: str, two_environments: str
) -> None:
    assert controller("dump", "a", "--shared").returncode == 0
    shared_a, shared_new = (
        controller.shared_file("a").parent,
        controller.shared_file("new").parent,
    )
    shutil.copytree(shared_a, shared_new)
    tampered = shared_new / "file.globals.sql"
    tampered.write_text(tampered.read_text() + "CREATE ROLE intruder SUPERUSER;\n")

    run = controller("restore-from-shared", "new", "--with-globals")

    assert run.returncode == 3, run
    assert "corrupt" in run.stderr
    assert role(PG_NEW, f"owner_{suffix}") == ()
    assert role(PG_NEW, "intruder") == ()


def test_a_user_who_may_not_read_passwords_still_saves_the_globals_without_them(
    pg: PgServers, controller: Controller, suffix: str
) -> None:
    user, db = f"dumper_{suffix}", f"own_{suffix}"
    psql(
        pg.a,
        f"CREATE ROLE {user} LOGIN PASSWORD 'pw-{suffix}';\n"
        f"CREATE ROLE secret_{suffix} LOGIN PASSWORD 'never-{suffix}';\n"
        f'CREATE DATABASE "{db}" OWNER {user};\n',
        db="postgres",
    )
    owner = PgServer(service=pg.a.service, port=pg.a.port, password=f"pw-{suffix}", user=user)
    psql(owner, "CREATE TABLE t AS SELECT generate_series(1, 10) AS i;", db=db)
    controller.add_database("own", owner, db=db)
    try:
        run = controller("dump", "own")

        assert run.returncode == 0, run
        [name] = controller.backups("own")
        text = (controller.data_dir("own") / name.replace(".dump", ".globals.sql")).read_text()
        assert f"CREATE ROLE secret_{suffix};" in text
        assert "SCRAM-SHA-256" not in text
    finally:
        psql(pg.a, f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE);', db="postgres")
        psql(
            pg.a, f"DROP ROLE IF EXISTS {user}; DROP ROLE IF EXISTS secret_{suffix};", db="postgres"
        )


# What a database is besides its content, by name (the ACL sorted: its order is not
# a property), as pg_database, pg_db_role_setting and pg_shdescription have it.
_DATABASE = f"""
SELECT json_build_object(
  'owner', pg_get_userbyid(d.datdba), 'acl', {_grants("d.datacl")},
  'connection_limit', d.datconnlimit, 'comment', shobj_description(d.oid, 'pg_database'),
  'encoding', pg_encoding_to_char(d.encoding), 'collate', d.datcollate, 'ctype', d.datctype,
  'settings', (SELECT json_agg(json_build_object(
      'role', CASE WHEN s.setrole = 0 THEN NULL ELSE pg_get_userbyid(s.setrole) END,
      'config', s.setconfig) ORDER BY s.setrole <> 0, pg_get_userbyid(s.setrole))
    FROM pg_db_role_setting s WHERE s.setdatabase = d.oid))
FROM pg_database d WHERE d.datname = '{{name}}';
"""


def database(server: PgServer, name: str) -> dict[str, object]:
    """Return what database ``name`` is besides its content (empty if there is none)."""
    found = psql(server, _DATABASE.format(name=name), db="postgres").strip()
    return json.loads(found) if found else {}


@pytest.fixture
def source_database(pg: PgServers, suffix: str, two_environments: str) -> Iterator[str]:
    """pg-a's appdb (service ``a``) owned by the shop's owner, commented, limited, with
    settings of its own and of a role in it, a grant, and TEMPORARY revoked from PUBLIC.
    Yields the name of ``new``'s database (which does not exist yet)."""
    owner, reader = f"owner_{suffix}", f"reader_{suffix}"
    psql(
        pg.a,
        f"""
        ALTER DATABASE appdb OWNER TO {owner};
        COMMENT ON DATABASE appdb IS 'the shop''s database; really';
        ALTER DATABASE appdb CONNECTION LIMIT 40;
        ALTER DATABASE appdb SET work_mem = '77MB';
        ALTER DATABASE appdb SET search_path = 'a schema', public;
        ALTER ROLE {reader} IN DATABASE appdb SET statement_timeout = '5s';
        GRANT CONNECT ON DATABASE appdb TO {reader};
        REVOKE TEMPORARY ON DATABASE appdb FROM PUBLIC;
        """,
        db="postgres",
    )
    try:
        yield two_environments
    finally:
        psql(pg.a, "ALTER DATABASE appdb OWNER TO postgres;", db="postgres")


def test_a_restore_onto_a_new_server_brings_back_the_databases_own_properties(
    pg: PgServers, controller: Controller, source_database: str
) -> None:
    source = database(pg.a, "appdb")
    assert controller("dump", "a").returncode == 0
    name = copy_backup(controller, "a", "new")

    run = controller("restore", "new", name, "--with-globals")

    assert run.returncode == 0, run
    assert database(PG_NEW, source_database) == source


def test_without_globals_a_restore_onto_a_server_with_the_roles_brings_back_the_properties(
    pg: PgServers, controller: Controller, suffix: str, source_database: str
) -> None:
    source = database(pg.a, "appdb")
    names = (f"owner_{suffix}", f"reader_{suffix}", f"Mixed Case {suffix}")
    psql(PG_NEW, "".join(f'CREATE ROLE "{n}";\n' for n in names), db="postgres")
    assert controller("dump", "a").returncode == 0
    name = copy_backup(controller, "a", "new")

    run = controller("restore", "new", name)

    assert run.returncode == 0, run
    assert database(PG_NEW, source_database) == source


def test_with_no_owner_a_restore_onto_a_new_server_keeps_what_names_no_role(
    pg: PgServers, controller: Controller, suffix: str, source_database: str
) -> None:
    source = database(pg.a, "appdb")
    assert controller("dump", "a").returncode == 0
    name = copy_backup(controller, "a", "new")

    run = controller("restore", "new", name, "--no-owner")

    assert run.returncode == 0, run
    restored = database(PG_NEW, source_database)
    # Owned by the restoring user, granted nothing by name; PUBLIC still lacks
    # TEMPORARY: never more open than the original.
    assert restored["owner"] == "postgres"
    assert restored["acl"] == [
        "postgres>PUBLIC:CONNECT",
        "postgres>postgres:CONNECT",
        "postgres>postgres:CREATE",
        "postgres>postgres:TEMPORARY",
    ]
    assert restored["settings"] == [
        {"role": None, "config": ["work_mem=77MB", 'search_path="a schema", public']}
    ]
    for same in ("connection_limit", "comment", "encoding", "collate", "ctype"):
        assert restored[same] == source[same], same


def copy_backup(controller: Controller, source: str, target: str) -> str:
    """Copy the one backup of ``source`` (with its globals and checksums) to ``target``'s
    directory, as another environment receives it; return its name."""
    [name] = controller.backups(source)
    controller.data_dir(target).mkdir(parents=True, exist_ok=True)
    stem = name.removesuffix(".dump")
    for file in (name, f"{name}.sha256", f"{stem}.globals.sql", f"{stem}.globals.sql.sha256"):
        shutil.copy(controller.data_dir(source) / file, controller.data_dir(target) / file)
    return name
