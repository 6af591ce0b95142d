"""dump, list and restore of one database, through the controller process."""

from __future__ import annotations

import re

import pytest

from .data import catalog_snapshot, damage_pagila, load_pagila, table_fingerprints
from .process import BACKUP_NAME_PATTERN, Controller, assert_one_line_error, pg_restore_list
from .servers import PG_A, PgServers

pytestmark = pytest.mark.integration


def test_restore_brings_back_exactly_the_dumped_database(
    pg: PgServers, controller: Controller
) -> None:
    load_pagila(pg.a)
    tables = table_fingerprints(pg.a)
    catalog = catalog_snapshot(pg.a)
    controller.add_database("a", pg.a)
    assert tables["public.payment"][0] == 1500
    assert tables["public.film_embedding"][0] == 500

    dumped = controller("dump", "a")
    listed = controller("list", "a")
    damage_pagila(pg.a)
    assert table_fingerprints(pg.a) != tables
    assert catalog_snapshot(pg.a) != catalog
    [name] = controller.backups("a")
    restored = controller("restore", "a", name)

    assert dumped.returncode == 0, dumped
    assert re.fullmatch(BACKUP_NAME_PATTERN, name), name
    assert listed.returncode == 0, listed
    assert sum(".dump" in line for line in listed.stdout.splitlines()) == 1, listed
    assert name in listed.stdout, listed
    assert restored.returncode == 0, restored
    assert table_fingerprints(pg.a) == tables
    assert catalog_snapshot(pg.a) == catalog


def test_a_dump_is_a_custom_format_archive_of_the_configured_database(
    pg: PgServers, controller: Controller
) -> None:
    load_pagila(pg.a)
    controller.add_database("a", pg.a)

    run = controller("dump", "a")

    assert run.returncode == 0, run
    [name] = controller.backups("a")
    contents = pg_restore_list(controller.data_dir("a") / name)
    assert "dbname: appdb" in contents
    assert "TABLE DATA public payment_p2023_01" in contents
    assert "EXTENSION - cube" in contents


def test_list_shows_the_newest_backup_first(controller: Controller) -> None:
    controller.add_database("a", PG_A)
    names = [
        "file_monthly_2024-06-01T00:03:00Z.dump",
        "file_daily_2024-07-04T09:00:00Z.dump",
        "file_weekly_2024-06-29T15:00:00Z.dump",
    ]
    controller.data_dir("a").mkdir(parents=True)
    for name in names:
        (controller.data_dir("a") / name).write_bytes(b"planted")

    run = controller("list", "a")

    assert run.returncode == 0, run
    listed = [line for line in run.stdout.splitlines() if ".dump" in line]
    order = [next(n for n in names if n in line) for line in listed]
    assert order == [names[1], names[2], names[0]], run


def test_list_of_a_database_without_backups_succeeds_and_lists_nothing(
    controller: Controller,
) -> None:
    controller.add_database("a", PG_A)

    run = controller("list", "a")

    assert run.returncode == 0, run
    assert ".dump" not in run.stdout, run


def test_an_uncompressed_dump_and_a_restore_in_three_jobs_bring_back_the_same_rows(
    pg: PgServers, controller: Controller
) -> None:
    load_pagila(pg.a)
    before = table_fingerprints(pg.a)
    controller.add_database("a", pg.a)
    controller.env.update(BACKUP_COMPRESSION="none", RESTORE_JOBS="3")
    assert controller("dump", "a").returncode == 0
    [name] = controller.backups("a")
    damage_pagila(pg.a)

    run = controller("restore", "a", name, "--no-safety-dump")

    assert run.returncode == 0, run
    assert table_fingerprints(pg.a) == before
    header = pg_restore_list(controller.data_dir("a") / name)
    assert "Compression: 0" in header or "Compression: none" in header, header


def test_zstd_with_tools_older_than_16_is_a_configuration_error_naming_the_version(
    pg: PgServers, controller: Controller
) -> None:
    controller.add_database("a", pg.a)
    controller.env["BACKUP_COMPRESSION"] = "zstd:3"

    run = controller("dump", "a")

    assert_one_line_error(run, 2)
    assert "BACKUP_COMPRESSION=zstd:3 needs pg_dump 16 or newer" in run.stderr, run
    assert "is 15" in run.stderr and controller.backups("a") == []
