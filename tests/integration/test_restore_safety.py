"""A restore never touches what is not its own, and a kill at any step loses nothing.

Each window is widened by a tool wrapper that waits before one statement (see
``delays``); the controller's process group is then SIGKILLed there, and the
next commands must find and mend exactly what was left.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pg_backup_manager.adapters.monitoring.run_history import HISTORY_NAME

from .data import database_properties
from .delays import delay_when, delaying_tools, kill_when_delayed
from .disks import tiny_tmpfs
from .process import Controller, assert_one_line_error
from .running import spawn, wait_until
from .servers import PgServer, PgServers, psql

pytestmark = pytest.mark.integration

EU_DB = "customer_analytics_warehouse_production_eu"
US_DB = "customer_analytics_warehouse_production_us"


def database_names(server: PgServer) -> set[str]:
    return set(psql(server, "SELECT datname FROM pg_database", db="template1").split("\n")) - {""}


def dumped_once(controller: Controller, identifier: str) -> str:
    run = controller("dump", identifier)
    assert run.returncode == 0, run
    [name] = controller.backups(identifier)
    return name


@pytest.fixture
def two_services(pg: PgServers, controller: Controller) -> Iterator[PgServer]:
    """Services eu and us on pg-a, whose database names share their first 40 bytes."""
    for db, rows in ((EU_DB, 10), (US_DB, 20)):
        psql(
            pg.a,
            f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE); CREATE DATABASE "{db}";',
            db="postgres",
        )
        psql(pg.a, f"CREATE TABLE t AS SELECT generate_series(1, {rows}) AS id", db=db)
        controller.add_database(db[-2:], pg.a, db=db)
    yield pg.a
    for db in (EU_DB, US_DB):
        psql(pg.a, f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)', db="postgres")


def test_a_verify_of_one_service_never_drops_another_services_scratch_database(
    two_services: PgServer, controller: Controller
) -> None:
    eu_backup, us_backup = dumped_once(controller, "eu"), dumped_once(controller, "us")
    psql(two_services, "INSERT INTO t VALUES (-1)", db=US_DB)
    flag = controller.workdir / "flags" / "loading"
    delay_when(
        controller,
        delaying_tools(controller.workdir / "bin"),
        "*--dbname=*_restore_*",
        flag,
        seconds=8,
    )
    us_restore = spawn(controller, "restore", "us", us_backup, "--no-safety-dump")
    wait_until(flag.exists, 60, "the us restore to pause before it loads its scratch database")
    controller.env.pop("PG_BIN_DIR")

    eu_verify = controller("verify", "eu", eu_backup, "--restore")
    out, err = us_restore.communicate(timeout=120)

    assert eu_verify.returncode == 0, eu_verify
    assert us_restore.returncode == 0, (out, err)
    assert psql(two_services, "SELECT count(*), min(id) FROM t", db=US_DB).split() == ["20", "1"]


def test_a_restore_of_one_service_never_puts_back_or_drops_what_another_set_aside(
    two_services: PgServer, controller: Controller
) -> None:
    us_backup = dumped_once(controller, "us")
    eu_backup = dumped_once(controller, "eu")
    flag = controller.workdir / "flags" / "between-renames"
    bin_dir = delaying_tools(controller.workdir / "bin")
    delay_when(controller, bin_dir, f"*--set=b={US_DB} *RENAME TO*", flag)
    kill_when_delayed(controller, flag, "restore", "us", us_backup, "--no-safety-dump")
    assert US_DB not in database_names(two_services)
    psql(two_services, f'DROP DATABASE "{EU_DB}" WITH (FORCE)', db="postgres")

    eu = controller("restore", "eu", eu_backup)
    dump_us = controller("dump", "us")

    assert eu.returncode == 0, eu
    assert "put back" not in eu.output
    assert_one_line_error(dump_us, 1)
    assert "set aside by a restore that was interrupted" in dump_us.stderr, dump_us
    us_aside = [n for n in database_names(two_services) if "_replaced_" in n]
    assert len(us_aside) == 1 and us_aside[0].startswith(US_DB[:20]), us_aside
    assert psql(two_services, "SELECT count(*) FROM t", db=us_aside[0]).strip() == "20"
    assert psql(two_services, "SELECT count(*) FROM t", db=EU_DB).strip() == "10"
    again = controller("verify", "us", "--restore")
    assert again.returncode == 0, again
    assert "put back" in again.stderr
    assert psql(two_services, "SELECT count(*) FROM t", db=US_DB).strip() == "20"


@pytest.fixture
def postgres_as_target(pg: PgServers, controller: Controller) -> Iterator[PgServer]:
    """Service p whose database is pg-b's ``postgres`` itself, with a table in it."""
    server = pg.b
    psql(
        server, "DROP TABLE IF EXISTS kept; CREATE TABLE kept AS SELECT 42 AS answer", db="postgres"
    )
    controller.add_database("p", server, db="postgres")
    yield server
    if "postgres" not in database_names(server):  # the test failed half way: mend the server
        asides = sorted(n for n in database_names(server) if n.startswith("postgres_replaced_"))
        psql(server, f'ALTER DATABASE "{asides[-1]}" RENAME TO postgres', db="template1")
    psql(server, "DROP TABLE IF EXISTS kept", db="postgres")


def test_a_restore_of_postgres_killed_between_the_renames_is_recovered(
    postgres_as_target: PgServer, controller: Controller
) -> None:
    backup = dumped_once(controller, "p")
    flag = controller.workdir / "flags" / "between-renames"
    delay_when(
        controller, delaying_tools(controller.workdir / "bin"), "*--set=b=postgres *RENAME*", flag
    )
    kill_when_delayed(controller, flag, "restore", "p", backup, "--no-safety-dump")
    assert "postgres" not in database_names(postgres_as_target)

    dump = controller("dump", "p")
    verify = controller("verify", "p", backup, "--restore")

    assert_one_line_error(dump, 1)
    assert "'postgres' does not exist, but 'postgres_replaced_" in dump.stderr, dump
    assert "controller verify p --restore" in dump.stderr, dump
    assert verify.returncode == 0, verify
    assert "put back" in verify.stderr, verify
    assert psql(postgres_as_target, "SELECT answer FROM kept", db="postgres").strip() == "42"
    assert controller("dump", "p").returncode == 0


def test_content_put_back_by_a_restore_is_saved_by_its_safety_dump(
    pg: PgServers, controller: Controller
) -> None:
    psql(pg.a, "CREATE TABLE t AS SELECT generate_series(1, 5) AS id")
    controller.add_database("a", pg.a)
    backup = dumped_once(controller, "a")
    psql(pg.a, "INSERT INTO t VALUES (100)")  # content newer than the backup
    flag = controller.workdir / "flags" / "between-renames"
    delay_when(
        controller, delaying_tools(controller.workdir / "bin"), "*--set=b=appdb *RENAME*", flag
    )
    kill_when_delayed(controller, flag, "restore", "a", backup, "--no-safety-dump")

    run = controller("restore", "a", backup)

    assert run.returncode == 0, run
    assert "put back" in run.stderr and "saved the content it replaced" in run.stdout, run
    [safety] = [name for name in controller.backups("a") if name != backup]
    assert psql(pg.a, "SELECT count(*) FROM t").strip() == "5"
    assert controller("restore", "a", safety, "--no-safety-dump").returncode == 0
    assert psql(pg.a, "SELECT max(id) FROM t").strip() == "100"


@pytest.fixture
def guarded_appdb(pg: PgServers) -> Iterator[PgServer]:
    """pg-a's appdb with an owner, revoked PUBLIC access, a limit, a comment and settings."""
    psql(
        pg.a,
        """
        DROP ROLE IF EXISTS app_owner; CREATE ROLE app_owner;
        DROP ROLE IF EXISTS app_reader; CREATE ROLE app_reader;
        ALTER DATABASE appdb OWNER TO app_owner;
        REVOKE CONNECT, TEMPORARY ON DATABASE appdb FROM PUBLIC;
        GRANT CONNECT ON DATABASE appdb TO app_reader;
        ALTER DATABASE appdb CONNECTION LIMIT 7;
        COMMENT ON DATABASE appdb IS 'the app''s database';
        ALTER DATABASE appdb SET search_path = "$user", public, "eu,sales", "Weird ""Schema"" $x";
        ALTER ROLE app_reader IN DATABASE appdb SET search_path = "a b", public;
        """,
        db="postgres",
    )
    psql(pg.a, "CREATE TABLE t AS SELECT generate_series(1, 5) AS id")
    yield pg.a
    for name in database_names(pg.a):
        if name == "appdb" or name.startswith("appdb_"):
            psql(pg.a, f'DROP DATABASE "{name}" WITH (FORCE)', db="postgres")
    psql(pg.a, "DROP ROLE IF EXISTS app_owner; DROP ROLE IF EXISTS app_reader", db="postgres")


def test_quoted_list_settings_come_back_exactly(
    guarded_appdb: PgServer, controller: Controller
) -> None:
    controller.add_database("a", guarded_appdb)
    backup = dumped_once(controller, "a")
    before = database_properties(guarded_appdb)

    run = controller("restore", "a", backup, "--no-safety-dump")

    assert run.returncode == 0, run
    assert database_properties(guarded_appdb) == before
    assert '"eu,sales"' in before and '"Weird ""Schema"" $x"' in before, before


def test_a_restore_killed_after_the_swap_leaves_the_target_with_all_its_properties(
    guarded_appdb: PgServer, controller: Controller
) -> None:
    controller.add_database("a", guarded_appdb)
    backup = dumped_once(controller, "a")
    before = database_properties(guarded_appdb)
    flag = controller.workdir / "flags" / "after-swap"
    delay_when(
        controller,
        delaying_tools(controller.workdir / "bin"),
        "*--set=a=appdb_replaced_*DROP DATABASE*",
        flag,
    )

    kill_when_delayed(controller, flag, "restore", "a", backup, "--no-safety-dump")

    assert database_properties(guarded_appdb) == before
    assert "app_owner" in before and "\t7\t" in before and "app_reader=c/" in before, before
    run = controller("restore", "a", backup, "--no-safety-dump")
    assert run.returncode == 0, run
    assert "drop it when you no longer need it" in run.stderr, run


def test_verify_restore_passes_tables_whose_names_look_like_sql(
    pg: PgServers, controller: Controller
) -> None:
    psql(
        pg.a,
        """
        CREATE TABLE "Sales (2024)" AS SELECT generate_series(1, 3) AS id;
        CREATE TABLE "COPY x FROM stdin;" AS SELECT generate_series(1, 4) AS id;
        CREATE SCHEMA "Weird ""Schema"" $x";
        CREATE TABLE "Weird ""Schema"" $x"."a (b) c" AS SELECT generate_series(1, 5) AS id;
        CREATE TABLE empty (id int);
        """,
    )
    controller.add_database("a", pg.a)
    dumped_once(controller, "a")

    run = controller("verify", "a", "--restore")

    assert run.returncode == 0, run
    assert "restored 4 tables, row counts match" in run.stdout, run


def test_a_full_disk_is_no_space_left_for_a_small_database_and_for_a_safety_dump(
    pg: PgServers, controller: Controller, tiny_full_disk: Path
) -> None:
    controller.add_database("a", pg.a)
    psql(pg.a, "CREATE TABLE t AS SELECT 1 AS id")

    dump = controller("dump", "a")
    restore = controller("restore", "a", BACKUP)

    for run in (dump, restore):
        # One error line; the history, on the same full disk, may add a warning.
        [error] = [line for line in run.stderr.splitlines() if line.startswith("error: ")]
        assert run.returncode == 1 and "no space left" in error.lower(), run
        assert run.stderr.count("\n") <= 2 and "Traceback" not in run.stderr, run
    assert psql(pg.a, "SELECT count(*) FROM t").strip() == "1"
    assert sorted(p.name for p in tiny_full_disk.iterdir() if p.name != HISTORY_NAME) == sorted(
        [BACKUP, f"{BACKUP}.sha256", "filler"]
    )


def test_a_wrong_password_on_a_full_disk_says_the_password_failed_not_no_space_left(
    pg: PgServers, controller: Controller, tiny_full_disk: Path
) -> None:
    controller.add_database("a", pg.a, password="not-the-password-4b1e")

    run = controller("dump", "a")

    [error] = [line for line in run.stderr.splitlines() if line.startswith("error: ")]
    assert run.returncode == 1 and "password authentication failed" in error, run
    assert "no space left" not in error.lower(), run
    assert "A_POSTGRES_PASSWORD" in error, run


BACKUP = "file_daily_2020-01-01T00:00:00Z.dump"


@pytest.fixture
def tiny_full_disk(pg: PgServers, controller: Controller, tmp_path: Path) -> Iterator[Path]:
    """A 256 KiB tmpfs as a's backup directory, holding one real backup, then filled up."""
    source = tmp_path / "source"
    source.mkdir()
    other = Controller(workdir=source, env=dict(controller.env))
    other.add_database("a", pg.a)
    psql(pg.a, "CREATE TABLE IF NOT EXISTS seed AS SELECT 1 AS id")
    made = dumped_once(other, "a")
    psql(pg.a, "DROP TABLE seed")
    directory = controller.data_dir("a")
    directory.mkdir(parents=True)
    with tiny_tmpfs(directory, "256k"):
        checksum = (other.data_dir("a") / f"{made}.sha256").read_text().replace(made, BACKUP)
        (directory / BACKUP).write_bytes((other.data_dir("a") / made).read_bytes())
        (directory / f"{BACKUP}.sha256").write_text(checksum)
        with (directory / "filler").open("wb", buffering=0) as filler:
            try:
                while True:
                    filler.write(b"x" * 4096)
            except OSError:
                pass
        yield directory


def test_a_backup_directory_others_can_write_to_is_refused(
    pg: PgServers, controller: Controller
) -> None:
    controller.add_database("a", pg.a)
    directory = controller.data_dir("a")
    directory.mkdir(parents=True)
    controller("list", "a")  # hands the work directory to postgres
    directory.chmod(0o777)
    refused = controller("dump", "a")
    directory.chmod(0o1777)  # sticky, and owned by the controller's user: safe
    sticky = controller("dump", "a")

    assert_one_line_error(refused, 1)
    assert "can be written by other users" in refused.stderr and "chmod go-w" in refused.stderr
    assert sticky.returncode == 0, sticky
    assert len(controller.backups("a")) == 1


def test_pg_dump_writes_inside_a_directory_only_the_controller_can_enter(
    pg: PgServers, controller: Controller
) -> None:
    psql(pg.a, "CREATE TABLE t AS SELECT 1 AS id")
    controller.add_database("a", pg.a)
    flag = controller.workdir / "flags" / "dumping"
    delay_when(controller, delaying_tools(controller.workdir / "bin"), "*--file=*", flag, seconds=3)
    dump = spawn(controller, "dump", "a")
    wait_until(flag.exists, 60, "pg_dump to start")

    [staging] = [p for p in controller.data_dir("a").iterdir() if p.name.endswith(".partial")]
    mode, owner = staging.stat().st_mode & 0o7777, staging.owner()
    out, err = dump.communicate(timeout=60)

    assert (mode, owner) == (0o700, "postgres")
    assert dump.returncode == 0, (out, err)
    assert len(controller.backups("a")) == 1
