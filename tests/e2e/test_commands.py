"""The README's manual commands, run in the controller container with ``docker exec``.

The stack is docker/compose.e2e.yml (``container_stack``): the controller image in
production mode with a PostgreSQL 15 (``pg15``), a 17 (``pg17``) and an 18 (``pg18``)
server. A plain ``docker exec`` runs as root, as an operator's would; the
``/controller`` wrapper must switch to the postgres user. Data is loaded and
compared from this host with psql; files are looked at with ``docker exec ls``
and friends. The controller's schedule is hours away: nothing runs by itself.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from ..integration.data import catalog_snapshot, damage_pagila, table_fingerprints
from ..integration.process import assert_one_line_error
from ..integration.servers import APP_DB, PgServer, psql
from .pagila import load_fresh_pagila
from .stack import (
    E2E_PG15,
    E2E_PG18,
    E2E_SERVERS,
    POSTGRES_IDS,
    ContainerStack,
    backup_name,
    created,
    data_dir_in_container,
    shared_file_in_container,
)

pytestmark = pytest.mark.integration

SERVERS = E2E_SERVERS


@pytest.fixture
def pagila(container_stack: ContainerStack) -> ContainerStack:
    """The stack, with pagila freshly loaded into ``appdb`` on every server."""
    for server, major in SERVERS.values():
        load_fresh_pagila(server, major)
    return container_stack


def todays_tier() -> str:
    """The README's tier of a dump now: monthly on the 1st, weekly on Saturdays, else daily."""
    today = datetime.now(ZoneInfo("Europe/Berlin")).date()
    return "monthly" if today.day == 1 else "weekly" if today.weekday() == 5 else "daily"


def taken_at(name: str) -> str:
    return name.split("_", 2)[2]


def not_null_constraints(server: PgServer) -> set[str]:
    """The NOT NULL constraints of ``appdb``, as ``catalog_snapshot`` lines.

    PostgreSQL 18 records NOT NULL as constraints of their own in pg_constraint;
    15 and 17 do not, so a catalog restored from 15 into 18 has them on top.
    """
    return set(
        psql(
            server,
            "SELECT 'constraint ' || conrelid::regclass::text || ' ' || conname "
            "FROM pg_constraint WHERE contype = 'n'",
        ).splitlines()
    )


def test_a_dump_by_plain_docker_exec_belongs_to_postgres_and_is_named_as_the_readme_says(
    container_stack: ContainerStack,
) -> None:
    stack = container_stack
    before = stack.backups("pg15")

    run = stack.controller("dump", "pg15")

    assert run.returncode == 0, run
    name = created(run, "pg15")
    assert name.startswith(f"file_{todays_tier()}_"), run
    assert stack.backups("pg15") == before | {name}
    assert stack.sh("id -u").strip() == "0"  # the exec itself ran as root
    owners = stack.files(data_dir_in_container("pg15"))
    assert owners[name] == POSTGRES_IDS
    assert set(owners.values()) == {POSTGRES_IDS}, owners
    toc = stack.sh(
        f"/usr/lib/postgresql/18/bin/pg_restore --list '{data_dir_in_container('pg15') / name}'"
    )
    assert f"dbname: {APP_DB}" in toc
    assert "Dumped by pg_dump version: 18." in toc and "Compression: zstd" in toc, toc
    listed = stack.controller("list", "pg15")
    assert listed.returncode == 0, listed
    assert re.search(rf"^{re.escape(name)}\s+{todays_tier()}\s", listed.stdout, re.M), listed


def test_list_shows_every_backup_newest_first_with_tier_time_size_and_globals(
    container_stack: ContainerStack,
) -> None:
    stack = container_stack
    newest = created(stack.controller("dump", "pg17"), "pg17")

    run = stack.controller("list", "pg17")

    assert run.returncode == 0, run
    header, *lines = run.stdout.splitlines()
    assert header.split() == ["NAME", "TIER", "TAKEN", "(UTC)", "SIZE", "GLOBALS"], run
    rows = [line.split() for line in lines]
    names = [row[0] for row in rows]
    assert names == sorted(stack.backups("pg17"), key=taken_at, reverse=True)
    assert names[0] == newest
    files = stack.files(data_dir_in_container("pg17"))
    for name, tier, day, time, size, unit, globals_file in rows:
        assert name == f"file_{tier}_{day}T{time}Z.dump", run
        assert float(size) > 0 and unit in {"B", "KiB", "MiB", "GiB"}, run
        # Every backup of this stack is made by this image, which saves the globals.
        assert globals_file == name.removesuffix(".dump") + ".globals.sql", run
        assert globals_file in files, files


def test_dump_all_shared_copies_each_new_archive_to_shared_file_dump(
    container_stack: ContainerStack,
) -> None:
    stack = container_stack

    run = stack.controller("dump", "--all", "--shared")

    assert run.returncode == 0, run
    assert f"dumped {len(SERVERS)} of {len(SERVERS)} databases" in run.stdout, run
    for ident in SERVERS:
        name = created(run, ident)
        shared = shared_file_in_container(ident)
        assert f"{ident}: copied to {shared}" in run.stdout, run
        assert stack.files(shared.parent)["file.dump"] == POSTGRES_IDS
        assert stack.sha256(shared) == stack.sha256(data_dir_in_container(ident) / name)


@pytest.mark.parametrize("ident", list(SERVERS))
def test_restore_brings_back_pagila_table_by_table(pagila: ContainerStack, ident: str) -> None:
    stack = pagila
    server, major = SERVERS[ident]
    before = table_fingerprints(server)
    catalog = catalog_snapshot(server)
    assert before["public.film_embedding"][0] == 500
    assert ("extension vector" in catalog) == (major >= 17)  # pgvector from 17, cube on 15
    name = created(stack.controller("dump", ident), ident)
    damage_pagila(server)
    assert table_fingerprints(server) != before

    run = stack.controller("restore", ident, name)

    assert run.returncode == 0, run
    assert f"{ident}: restored {name}" in run.stdout, run
    assert table_fingerprints(server) == before
    assert catalog_snapshot(server) == catalog


def test_restore_from_shared_all_brings_back_every_server(pagila: ContainerStack) -> None:
    stack = pagila
    before = {ident: table_fingerprints(server) for ident, (server, _) in SERVERS.items()}
    assert stack.controller("dump", "--all", "--shared").returncode == 0
    for server, _ in SERVERS.values():
        damage_pagila(server)

    run = stack.controller("restore-from-shared", "--all")

    assert run.returncode == 0, run
    assert f"restored {len(SERVERS)} of {len(SERVERS)} databases" in run.stdout, run
    for ident, (server, _) in SERVERS.items():
        assert table_fingerprints(server) == before[ident], ident


def test_a_pg15_backup_restored_from_shared_into_pg18_holds_the_same_tables(
    pagila: ContainerStack,
) -> None:
    """The upgrade path: a backup of the 15 server loaded into the 18 one."""
    stack = pagila
    source = table_fingerprints(E2E_PG15)
    source_catalog = catalog_snapshot(E2E_PG15)
    assert table_fingerprints(E2E_PG18) != source  # pg18 holds its own pagila (pgvector, uuidv7)
    assert stack.controller("dump", "pg15", "--shared").returncode == 0
    shared_15, shared_18 = shared_file_in_container("pg15"), shared_file_in_container("pg18")
    stack.sh(
        f"mkdir -p '{shared_18.parent}' && cp '{shared_15}' '{shared_15}.sha256' "
        f"'{shared_18.parent}/'",
        user="postgres",
    )

    run = stack.controller("restore-from-shared", "pg18")

    assert run.returncode == 0, run
    assert f"pg18: restored {shared_18.name} into " in run.stdout, run
    assert psql(E2E_PG18, "SHOW server_version_num").startswith("18"), "pg18 is not 18"
    assert table_fingerprints(E2E_PG18) == source
    assert [
        line for line in catalog_snapshot(E2E_PG18) if line not in not_null_constraints(E2E_PG18)
    ] == source_catalog


def test_a_pg15_backup_restored_into_pg18_with_globals_brings_its_role_and_grant(
    pagila: ContainerStack,
) -> None:
    """The upgrade path onto a new server: the backup's roles come with it."""
    stack = pagila
    psql(E2E_PG18, "DROP ROLE IF EXISTS e2e_reader", db="postgres")
    psql(
        E2E_PG15,
        "DROP ROLE IF EXISTS e2e_reader;\n"
        "CREATE ROLE e2e_reader LOGIN;\n"
        "GRANT SELECT ON public.actor TO e2e_reader;\n",
    )
    source = table_fingerprints(E2E_PG15)
    name = created(stack.controller("dump", "pg15"), "pg15")
    stem = name.removesuffix(".dump")
    files_15 = stack.files(data_dir_in_container("pg15"))
    assert {f"{name}.sha256", f"{stem}.globals.sql"} <= set(files_15), files_15
    stack.sh(
        f"cp -p '{data_dir_in_container('pg15')}/{stem}.'* '{data_dir_in_container('pg18')}/'",
        user="postgres",
    )

    run = stack.controller("restore", "pg18", name, "--with-globals")

    assert run.returncode == 0, run
    assert f"pg18: restored {name} into " in run.stdout, run
    assert table_fingerprints(E2E_PG18) == source
    assert psql(E2E_PG18, "SELECT rolcanlogin FROM pg_roles WHERE rolname = 'e2e_reader'") == "t\n"
    granted = "SELECT has_table_privilege('e2e_reader', 'public.actor', 'SELECT')"
    assert psql(E2E_PG18, granted) == "t\n"


def test_prune_dry_run_prints_the_plan_and_deletes_nothing(
    container_stack: ContainerStack,
) -> None:
    stack = container_stack
    expired = backup_name("daily", timedelta(days=10))
    recent = backup_name("daily", timedelta(days=1))
    stack.plant("pg15", expired, recent)
    try:
        before = stack.files(data_dir_in_container("pg15"))

        run = stack.controller("prune", "pg15", "--dry-run")

        assert run.returncode == 0, run
        assert re.search(rf"^pg15: would delete {re.escape(expired)} \(", run.stdout, re.M), run
        assert re.search(rf"^pg15: keep +{re.escape(recent)} \(", run.stdout, re.M), run
        assert stack.files(data_dir_in_container("pg15")) == before
    finally:
        stack.remove("pg15", expired, recent)


def test_errors_are_one_line_with_the_readme_exit_codes(container_stack: ContainerStack) -> None:
    stack = container_stack

    missing = stack.controller("restore", "pg17", "file_daily_2001-01-01T00:00:00Z.dump")
    unknown = stack.controller("list", "nosuch")

    assert_one_line_error(missing, 1)
    assert "file_daily_2001-01-01T00:00:00Z.dump" in missing.stderr, missing
    assert_one_line_error(unknown, 2)
    assert "nosuch" in unknown.stderr, unknown
