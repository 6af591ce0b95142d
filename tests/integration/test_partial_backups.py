"""Exclusions and ``<SERVICE>_DUMP_ARGS`` through the real ``pg_dump`` and ``pg_restore``,
against a PostgreSQL 15 cluster of this host: what they leave out is absent after a
restore while the rest is there, ``verify --restore`` passes the partial backup, ``list``
and ``status`` say it is partial, and an option that would break the controller stops
every command at start."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from .process import BACKUP_NAME_PATTERN, Controller, assert_one_line_error
from .regression_db import started_new, temporary_root
from .running import spawn, stop, wait_until
from .servers import PgServer, psql, recreate_database

pytestmark = pytest.mark.integration

DB = "shop"
ODD = "odd $(touch marker) name"  # a shell would run it; pg_dump reads it as a name
CONTENT = f"""
CREATE TABLE customers (id int PRIMARY KEY, name text);
INSERT INTO customers SELECT g, 'customer ' || g FROM generate_series(1, 50) g;
CREATE TABLE audit_log (id int, what text);
INSERT INTO audit_log SELECT g, 'seen' FROM generate_series(1, 30) g;
CREATE TABLE "Sales, 2024" (id int);
INSERT INTO "Sales, 2024" VALUES (1), (2);
CREATE TABLE "{ODD}" (id int);
INSERT INTO "{ODD}" VALUES (1);
CREATE TABLE cache_pages (key text, body text);
INSERT INTO cache_pages SELECT g::text, 'page' FROM generate_series(1, 20) g;
CREATE SCHEMA scratch;
CREATE TABLE scratch.tmp (id int);
INSERT INTO scratch.tmp VALUES (1);
"""
EXCLUDING = {
    "SHOP_EXCLUDE_TABLES": f'audit_log, "Sales, 2024", "{ODD}"',
    "SHOP_EXCLUDE_TABLE_DATA": "cache_*",
    "SHOP_EXCLUDE_SCHEMAS": "scratch",
    "SHOP_DUMP_ARGS": "--lock-wait-timeout=60s --no-comments",
}
LEFT_OUT = [
    "--exclude-table=audit_log",
    '--exclude-table="Sales, 2024"',
    f'--exclude-table="{ODD}"',
    "--exclude-table-data=cache_*",
    "--exclude-schema=scratch",
]


@pytest.fixture(scope="module")
def cluster() -> Iterator[PgServer]:
    root = temporary_root()
    try:
        with started_new(root) as host:
            yield host.server
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def shop(cluster: PgServer, controller: Controller) -> Controller:
    """The service ``shop``: its database afresh with :data:`CONTENT`, and its exclusions."""
    recreate_database(cluster, DB)
    psql(cluster, CONTENT, db=DB)
    controller.add_database("shop", cluster, db=DB)
    controller.env.update(EXCLUDING)
    return controller


def tables(server: PgServer) -> dict[str, int]:
    """Return each table of the database (``schema.name``) with its number of rows."""
    said = psql(
        server,
        "SELECT n.nspname || '.' || c.relname, "
        "(xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %I.%I', "
        "n.nspname, c.relname), false, true, '')))[1]::text::int "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
        "ORDER BY 1",
        db=DB,
    )
    return {name: int(rows) for name, rows in (line.split("\t") for line in said.splitlines())}


def dumped(controller: Controller) -> str:
    """Dump ``shop``; return the name of its new backup."""
    run = controller("dump", "shop")
    assert run.returncode == 0, run
    [name] = [b["name"] for b in json.loads(controller("list", "shop", "--json").stdout)["backups"]]
    return str(name)


def test_what_is_excluded_is_absent_after_restore_the_rest_is_there_and_verify_passes(
    shop: Controller, cluster: PgServer
) -> None:
    backup = dumped(shop)
    psql(cluster, "INSERT INTO customers VALUES (51, 'after the backup');", db=DB)

    verified = shop("verify", "shop", backup, "--restore")
    restored = shop("restore", "shop", backup, "--no-safety-dump")

    assert verified.returncode == 0, verified
    assert f"shop: ok {backup}: checksum and archive ok; restored 1 tables" in verified.stdout
    assert restored.returncode == 0, restored
    assert tables(cluster) == {"public.cache_pages": 0, "public.customers": 50}
    assert psql(cluster, "SELECT count(*) FROM pg_namespace WHERE nspname = 'scratch'", db=DB) == (
        "0\n"
    )
    assert not (shop.workdir / "marker").exists()


def test_list_and_status_show_a_partial_backup_and_what_it_left_out(
    shop: Controller, cluster: PgServer
) -> None:
    backup = dumped(shop)
    shop.add_database("whole", cluster, db=DB)
    assert shop("dump", "whole").returncode == 0

    listed = shop("list", "shop")
    [entry] = json.loads(shop("list", "shop", "--json").stdout)["backups"]
    status = shop("status", "shop")
    newest = json.loads(shop("status", "--all", "--json").stdout)["databases"]

    row = next(line for line in listed.stdout.splitlines() if line.startswith(backup))
    assert row.endswith(
        "  partial: --exclude-table=audit_log '--exclude-table=\"Sales, 2024\"' "
        f"'--exclude-table=\"{ODD}\"' '--exclude-table-data=cache_*' "
        "--exclude-schema=scratch"
    )
    assert (entry["partial"], entry["left_out"]) == (True, LEFT_OUT)
    assert "partial: --exclude-table=audit_log" in status.stdout
    assert [(s["database"], s["newest_backup"]["partial"]) for s in newest] == [
        ("shop", True),
        ("whole", False),
    ]
    assert newest[0]["newest_backup"]["left_out"] == LEFT_OUT
    assert newest[1]["newest_backup"]["left_out"] == []
    assert (shop.data_dir("shop") / backup.replace(".dump", ".left-out.json")).is_file()


def test_a_scheduled_run_logs_a_partial_backup_with_its_size_as_the_readme_shows(
    shop: Controller, tmp_path: Path
) -> None:
    root = tmp_path / "var-lib-postgresql"
    (root / "backup" / "data").mkdir(parents=True)
    heartbeat = root / "backup" / "data" / ".heartbeat"
    shop.env.update(MODE="production", BACKUP_ON_START="true", BACKUP_SCHEDULE="0 0 1 1 *")

    process = spawn(shop, "start", namespace_root=root)
    try:  # waiting for the next run: BACKUP_ON_START's run is over, and logged
        wait_until(lambda: heartbeat.is_file() and "due_at" in heartbeat.read_text(), 90, "the run")
    finally:
        _, _, logged = stop(process)

    [line] = [line for line in logged.splitlines() if " INFO shop: created " in line]
    said = line.split(" INFO ", 1)[1]
    assert re.fullmatch(
        rf"shop: created {BACKUP_NAME_PATTERN} \([0-9.]+ (B|KiB|MiB), partial: "
        r"--exclude-table=audit_log .*--exclude-schema=scratch\)",
        said,
    ), said


def test_a_restore_of_a_partial_backup_keeps_what_it_left_out_in_its_whole_safety_dump(
    shop: Controller, cluster: PgServer
) -> None:
    backup = dumped(shop)
    before = tables(cluster)

    restored = shop("restore", "shop", backup)
    after_partial = tables(cluster)
    [safety] = [
        b
        for b in json.loads(shop("list", "shop", "--json").stdout)["backups"]
        if b["name"] != backup
    ]
    back = shop("restore", "shop", safety["name"], "--no-safety-dump")

    assert restored.returncode == 0, restored
    assert "public.audit_log" not in after_partial
    assert (safety["partial"], safety["left_out"]) == (False, [])
    assert back.returncode == 0, back
    assert tables(cluster) == before
    assert before["public.audit_log"] == 30 and before["scratch.tmp"] == 1


def test_an_exclusion_that_breaks_a_foreign_key_is_a_backup_verify_restore_fails(
    shop: Controller, cluster: PgServer
) -> None:
    psql(
        cluster,
        "CREATE TABLE orders (id int, customer int REFERENCES customers);\n"
        "INSERT INTO orders VALUES (1, 7);",
        db=DB,
    )
    shop.env["SHOP_EXCLUDE_TABLE_DATA"] = "customers"
    backup = dumped(shop)

    verified = shop("verify", "shop", backup, "--restore")

    assert verified.returncode == 3, verified
    assert f"shop: FAILED {backup}: restore failed: " in verified.stdout
    assert "foreign key" in verified.stdout


@pytest.mark.parametrize(
    "dump_args",
    [
        "-xf out.dump",
        "-fout.dump",
        "--file=out.dump",
        "--fil=out.dump",
        "--form=directory",
        "-j 2",
        "--compress=9",
        "--host=elsewhere",
        "-s",
        "--clean",
        "--inserts",
        "--no-comments appdb",
    ],
)
def test_refused_dump_args_exit_2_in_one_line_before_anything_runs(
    controller: Controller, cluster: PgServer, dump_args: str
) -> None:
    controller.add_database("shop", cluster, db=DB)
    controller.env["SHOP_DUMP_ARGS"] = dump_args

    runs = [controller(*command) for command in (["dump", "shop"], ["config"], ["list", "shop"])]

    for run in runs:
        assert_one_line_error(run, 2)
        assert run.stderr.startswith("error: SHOP_DUMP_ARGS: "), run
        assert "out.dump" not in run.stderr and "elsewhere" not in run.stderr, run
    assert not (controller.workdir / "backup-data").exists()
    assert not (controller.workdir / "out.dump").exists()


def test_a_shared_partial_backup_carries_its_note_and_the_history_says_what_it_left_out(
    shop: Controller, cluster: PgServer
) -> None:
    shared = shop("dump", "shop", "--shared")
    note = shop.shared_file("shop").with_name("file.left-out.json")
    said = json.loads(note.read_text())["left_out"]
    psql(cluster, "INSERT INTO customers VALUES (51, 'after the backup');", db=DB)

    restored = shop("restore-from-shared", "shop", "--no-safety-dump")
    for name in EXCLUDING:
        del shop.env[name]
    whole = shop("dump", "shop", "--shared", "--tier", "weekly")

    assert shared.returncode == 0, shared
    assert said == LEFT_OUT
    assert restored.returncode == 0, restored
    assert "shop: file.dump is partial (--exclude-table=audit_log " in restored.stdout
    assert tables(cluster) == {"public.cache_pages": 0, "public.customers": 50}
    assert whole.returncode == 0, whole
    assert not note.exists()
    history = (shop.data_dir("shop") / "history.jsonl").read_text().splitlines()
    assert [
        (record["operation"], record.get("partial"), record.get("left_out"))
        for record in map(json.loads, history)
    ] == [
        ("dump", True, LEFT_OUT),
        ("restore-from-shared", True, LEFT_OUT),
        ("dump", None, None),
    ]
