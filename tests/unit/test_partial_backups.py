"""Backups that leave something out: dumped with the service's exclusions and
``DUMP_ARGS``, recorded as partial, shown so by ``dump``, ``list`` and ``status``; a
restore's safety dump leaves nothing out."""

from __future__ import annotations

import json
import logging

import pytest

from pg_backup_manager.domain.dump_options import DumpOptions
from pg_backup_manager.domain.names import BackupName, Tier
from pg_backup_manager.entrypoints.scheduler import log_run

from .fakes import Fakes, database
from .test_cli import Run, fakes, run  # noqa: F401  (the CLI through the real container)

EXCLUDING = DumpOptions(
    arguments=("--exclude-table=audit", "--lock-wait-timeout=60s"),
    left_out=("--exclude-table=audit",),
)
USERS = database("users", dbname="app", dump_options=EXCLUDING)
BACKUP = "file_daily_2024-07-04T03:00:00Z.dump"


def test_a_dump_passes_the_options_and_records_what_they_left_out(fakes: Fakes) -> None:  # noqa: F811

    [result] = fakes.take_backups()([USERS], tier=Tier.DAILY).results

    assert fakes.dumper.arguments == [("--exclude-table=audit", "--lock-wait-timeout=60s")]
    assert result.backup is not None
    assert (result.backup.partial, result.backup.left_out) == (True, ("--exclude-table=audit",))
    [listed] = fakes.store.backups("users")
    assert listed.left_out == ("--exclude-table=audit",)


def test_a_dump_without_anything_left_out_is_whole(fakes: Fakes) -> None:  # noqa: F811
    options = DumpOptions(arguments=("--no-comments",))

    fakes.take_backups()([database("users", dump_options=options)], tier=Tier.DAILY)

    [listed] = fakes.store.backups("users")
    assert fakes.dumper.arguments == [("--no-comments",)]
    assert (listed.partial, listed.left_out) == (False, ())


def test_a_scheduled_run_logs_each_backups_size_and_that_it_is_partial_as_the_readme_shows(
    fakes: Fakes,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    backup_run = fakes.backup_run(offsite=False)

    with caplog.at_level(logging.INFO):
        log_run(backup_run.scheduled((USERS, database("orders")), share=False))

    assert [record.getMessage() for record in caplog.records] == [
        "users: created file_daily_2024-07-04T09:00:00Z.dump (1.2 KiB, partial: "
        "--exclude-table=audit)",
        "orders: created file_daily_2024-07-04T09:00:00Z.dump (1.2 KiB)",
    ]


def test_the_safety_dump_of_a_restore_saves_what_the_exclusions_leave_out(fakes: Fakes) -> None:  # noqa: F811
    fakes.server.databases = {"postgres", "app"}
    fakes.store.add("users", BACKUP)
    fakes.store.checksums["users", BackupName.parse(BACKUP)] = "a" * 64

    outcome = fakes.restore().backup(USERS, BACKUP)

    assert outcome.safety_backup is not None and not outcome.safety_backup.partial
    assert fakes.dumper.arguments == [("--lock-wait-timeout=60s",)]
    assert not any(backup.partial for backup in fakes.store.backups("users"))


def test_dump_list_and_status_say_a_backup_is_partial_and_what_it_left_out(run: Run) -> None:  # noqa: F811
    excluding = {
        "USERS_EXCLUDE_TABLES": 'audit, "Sales, 2024"',
        "USERS_DUMP_ARGS": "--no-blobs --no-comments",
    }

    dump_code, dumped, _ = run("dump", "users", **excluding)
    _, listed, _ = run("list", "users", **excluding)
    _, document, _ = run("list", "users", "--json", **excluding)
    _, status, _ = run("status", "users", **excluding)
    _, status_document, _ = run("status", "users", "--json", **excluding)

    left_out = ["--exclude-table=audit", '--exclude-table="Sales, 2024"', "--no-blobs"]
    said = "partial: --exclude-table=audit '--exclude-table=\"Sales, 2024\"' --no-blobs"
    assert dump_code == 0
    assert f"(1.2 KiB, {said})" in dumped
    assert listed.splitlines()[1].endswith(f".globals.sql  {said}")
    [entry] = json.loads(document)["backups"]
    assert (entry["partial"], entry["left_out"]) == (True, left_out)
    assert f"old), {said}" in status
    newest = json.loads(status_document)["databases"][0]["newest_backup"]
    assert (newest["partial"], newest["left_out"]) == (True, left_out)


def test_a_whole_backup_is_listed_as_whole(run: Run) -> None:  # noqa: F811
    run("dump", "users", USERS_DUMP_ARGS="--no-comments")

    _, listed, _ = run("list", "users")
    _, document, _ = run("list", "users", "--json")

    assert "partial" not in listed
    [entry] = json.loads(document)["backups"]
    assert (entry["partial"], entry["left_out"]) == (False, [])


def test_a_refused_dump_arg_exits_2_in_one_line_and_nothing_is_done(
    run: Run,  # noqa: F811
    fakes: Fakes,  # noqa: F811
) -> None:
    code, out, err = run("dump", "--all", ORDERS_DUMP_ARGS="--no-comments -xfout.dump")

    assert code == 2
    assert out == ""
    assert err == (
        "error: ORDERS_DUMP_ARGS: -f (pg_dump's --file) is refused: the controller writes "
        "each archive into a file of its own\n"
    )
    assert fakes.dumper.dumped == [] and fakes.store.files == {}
    assert fakes.run_log.records("users") == fakes.run_log.records("orders") == []


def test_config_shows_each_services_exclusions_and_dump_args(run: Run) -> None:  # noqa: F811
    code, out, _ = run("config", USERS_EXCLUDE_SCHEMAS="tmp_*", USERS_DUMP_ARGS="--no-comments")

    shown = {line.split()[0]: line.split(None, 1)[1] for line in out.splitlines()}
    assert code == 0
    assert shown["USERS_EXCLUDE_SCHEMAS"] == "tmp_*  [environment]"
    assert shown["USERS_DUMP_ARGS"] == "--no-comments  [environment]"
    assert shown["ORDERS_EXCLUDE_TABLES"] == "(empty)  [default]"
