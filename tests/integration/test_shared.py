"""dump --shared and restore-from-shared, for one database and for all."""

from __future__ import annotations

import pytest

from .data import damage_pagila, load_pagila, table_fingerprints
from .process import Controller
from .servers import PgServers, psql

pytestmark = pytest.mark.integration


def test_dump_shared_also_copies_the_backup_to_the_shared_file(
    pg: PgServers, controller: Controller
) -> None:
    load_pagila(pg.a)
    controller.add_database("a", pg.a)

    run = controller("dump", "a", "--shared")

    assert run.returncode == 0, run
    [name] = controller.backups("a")
    shared = controller.shared_file("a")
    assert shared.is_file()
    assert shared.read_bytes() == (controller.data_dir("a") / name).read_bytes()


def test_restore_from_shared_brings_back_the_shared_dump(
    pg: PgServers, controller: Controller
) -> None:
    load_pagila(pg.a)
    original = table_fingerprints(pg.a)
    controller.add_database("a", pg.a)
    dumped = controller("dump", "a", "--shared")
    damage_pagila(pg.a)

    run = controller("restore-from-shared", "a")

    assert dumped.returncode == 0, dumped
    assert run.returncode == 0, run
    assert table_fingerprints(pg.a) == original


def test_restore_from_shared_all_restores_each_database_from_its_own_file(
    pg: PgServers, controller: Controller
) -> None:
    load_pagila(pg.a)
    load_pagila(pg.b)
    psql(pg.b, "UPDATE actor SET last_name = last_name || ' on b'; CREATE TABLE only_on_b ();")
    original_a = table_fingerprints(pg.a)
    original_b = table_fingerprints(pg.b)
    assert original_a != original_b
    controller.add_database("a", pg.a)
    controller.add_database("b", pg.b)
    dumped = controller("dump", "--all", "--shared")
    damage_pagila(pg.a)
    damage_pagila(pg.b)

    run = controller("restore-from-shared", "--all")

    assert dumped.returncode == 0, dumped
    assert run.returncode == 0, run
    assert table_fingerprints(pg.a) == original_a
    assert table_fingerprints(pg.b) == original_b
