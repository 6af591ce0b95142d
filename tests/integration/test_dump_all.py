"""dump --all over several databases, with all servers up and with one down."""

from __future__ import annotations

import re

import pytest

from pg_backup_manager.adapters.monitoring.run_history import HISTORY_NAME

from .process import BACKUP_NAME_PATTERN, Controller, pg_restore_list
from .servers import DEAD_PORT, PgServers, psql

pytestmark = pytest.mark.integration


def test_dump_all_backs_up_each_database_from_its_own_server(
    pg: PgServers, controller: Controller
) -> None:
    psql(pg.a, "CREATE TABLE only_on_a (id int); INSERT INTO only_on_a VALUES (1);")
    psql(pg.b, "CREATE TABLE only_on_b (id int); INSERT INTO only_on_b VALUES (2);")
    controller.add_database("a", pg.a)
    controller.add_database("b", pg.b)

    run = controller("dump", "--all")

    assert run.returncode == 0, run
    [dump_a] = controller.backups("a")
    [dump_b] = controller.backups("b")
    contents_a = pg_restore_list(controller.data_dir("a") / dump_a)
    contents_b = pg_restore_list(controller.data_dir("b") / dump_b)
    assert "only_on_a" in contents_a and "only_on_b" not in contents_a
    assert "only_on_b" in contents_b and "only_on_a" not in contents_b


def test_dump_all_keeps_the_good_backup_and_leaves_no_file_for_a_server_that_is_down(
    pg: PgServers, controller: Controller
) -> None:
    psql(pg.a, "CREATE TABLE t (id int); INSERT INTO t SELECT generate_series(1, 1000);")
    controller.add_database("main", pg.a)
    controller.add_database("broken", pg.b, port=DEAD_PORT)

    run = controller("dump", "--all")

    assert run.returncode == 1, run
    assert "broken" in run.output, run
    [good] = controller.backups("main")
    assert re.fullmatch(BACKUP_NAME_PATTERN, good)
    pg_restore_list(controller.data_dir("main") / good)
    assert controller.backups("broken") == []
    files = sorted(
        p
        for p in (controller.workdir / "backup-data").rglob("*")
        if p.is_file() and p.name != HISTORY_NAME
    )
    good_path = controller.data_dir("main") / good
    globals_path = good_path.with_name(good.replace(".dump", ".globals.sql"))
    assert files == [
        good_path,
        good_path.with_name(good + ".sha256"),
        globals_path,
        globals_path.with_name(globals_path.name + ".sha256"),
    ]
