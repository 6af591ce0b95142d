"""``<SERVICE>_POSTGRES_DB=*`` against a real server (a host cluster, no Docker): every
database of the server, awkward names included, backed up into a directory of its own
with its globals dumped once per run; one restored alone; a database created between two
runs picked up, one dropped kept; the excluded never dumped; names that are no database,
exit 2."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from pg_backup_manager.domain.database_names import segment

from .pitr_cluster import host_cluster, sql
from .process import BACKUP_NAME_PATTERN, Controller, assert_one_line_error
from .regression_db import HostServer

pytestmark = pytest.mark.integration

LONG = "é" * 31 + "x"  # 63 bytes, the longest name a server keeps
AWKWARD = ("my db", ".", "a/b", "pitr", "café", "Sales", LONG)
EXCLUDED = ("scratch", "postgres")


@pytest.fixture
def host() -> Iterator[HostServer]:
    with host_cluster("every-database") as cluster:
        for name in (*AWKWARD, *EXCLUDED[:1]):
            create(cluster, name)
        yield cluster


def create(host: HostServer, name: str) -> None:
    quoted = '"' + name.replace('"', '""') + '"'
    sql(host, f"CREATE DATABASE {quoted}")
    sql(
        host,
        "CREATE TABLE marker (name text); INSERT INTO marker VALUES (current_database())",
        db=name,
    )


def marker(host: HostServer, name: str) -> str:
    return sql(host, "SELECT string_agg(name, ',' ORDER BY name) FROM marker", db=name)


@pytest.fixture
def main(controller: Controller, host: HostServer) -> Controller:
    controller.add_database("main", host.server, db="*")
    controller.env["MAIN_EXCLUDE_DATABASES"] = ", ".join(EXCLUDED)
    return controller


def directory(controller: Controller, name: str) -> Path:
    return controller.workdir / "backup-data" / "data" / "main" / segment(name)


def backups(controller: Controller, name: str) -> list[str]:
    found = directory(controller, name)
    if not found.is_dir():
        return []
    return sorted(p.name for p in found.iterdir() if re.fullmatch(BACKUP_NAME_PATTERN, p.name))


def test_each_database_is_backed_up_into_its_own_directory_with_the_globals_once(
    main: Controller,
) -> None:
    dumped = main("dump", "main")
    listed = main("list")

    assert dumped.returncode == 0, dumped
    for name in AWKWARD:
        [archive] = backups(main, name)
        assert f"main/{name}: created {archive}" in dumped.stdout
        assert f"main/{name}" in listed.stdout
    service = main.workdir / "backup-data" / "data" / "main"
    assert sorted(p.name for p in service.iterdir() if p.is_dir()) == sorted(
        segment(name) for name in AWKWARD
    )
    assert not (service / "scratch").exists() and "main/scratch" not in listed.stdout
    assert "main/postgres" not in dumped.stdout
    # One pg_dumpall for the run: every backup's globals are the same file.
    globals_files = [next(directory(main, n).glob("*.globals.sql")) for n in AWKWARD]
    assert len({path.stat().st_ino for path in globals_files}) == 1
    assert "CREATE ROLE postgres" in globals_files[0].read_text()
    listing = json.loads((service / "databases.json").read_text())
    assert sorted(listing["databases"]) == sorted(AWKWARD)


def test_one_database_of_the_server_is_restored_alone(main: Controller, host: HostServer) -> None:
    main("dump", "main")
    [archive] = backups(main, "my db")
    sql(host, "INSERT INTO marker VALUES ('later')", db="my db")
    sql(host, "INSERT INTO marker VALUES ('later')", db="a/b")

    restored = main("restore", "main/my db", archive, "--no-safety-dump")
    verified = main("verify", "main/my db", archive, "--restore")

    assert restored.returncode == 0, restored
    assert marker(host, "my db") == "my db"
    assert marker(host, "a/b") == "a/b,later"
    assert verified.returncode == 0, verified


def test_a_database_created_between_runs_is_picked_up_and_one_dropped_keeps_its_backups(
    main: Controller, host: HostServer
) -> None:
    main("dump", "main")
    create(host, "late")
    sql(host, 'DROP DATABASE "café"')

    again = main("dump", "main")
    document = json.loads(main("status", "main", "--json").stdout)
    pruned = main("prune", "main/café")

    assert again.returncode == 0, again
    assert len(backups(main, "late")) == 1
    assert "main/café" not in again.stdout
    assert len(backups(main, "café")) == 1  # the newest is kept, whatever its age
    found = {entry["database"]: entry for entry in document["databases"]}
    assert (found["main/café"]["on_server"], found["main/café"]["judged"]) == (False, False)
    assert (found["main/late"]["on_server"], found["main/late"]["healthy"]) == (True, True)
    assert pruned.returncode == 0, pruned
    assert "main/café: keep" in pruned.stdout


def test_names_that_are_no_database_here_are_one_line_and_exit_2(
    main: Controller, host: HostServer
) -> None:
    main.add_database("users", host.server, db="postgres")
    main("dump", "main/my db")

    for args in (
        ("list", "main/nope"),
        ("dump", "main/nope"),
        ("dump", "main/scratch"),
        ("dump", "users/postgres"),
        ("restore", "main", "file_daily_2024-07-04T09:00:00Z.dump"),
        ("basebackup", "main/my db"),
    ):
        assert_one_line_error(main(*args), 2)


def test_excluding_databases_without_a_star_is_a_configuration_error(
    controller: Controller, host: HostServer
) -> None:
    controller.add_database("users", host.server, db="postgres")
    controller.env["USERS_EXCLUDE_DATABASES"] = "scratch"

    run = controller("list", "users")

    assert_one_line_error(run, 2)
    assert "USERS_EXCLUDE_DATABASES" in run.stderr


def test_each_database_goes_off_site_under_its_own_key_prefix(main: Controller) -> None:
    share = main.workdir / "nas"
    share.mkdir()
    share.chmod(0o755)
    main.env["OFFSITE_URL"] = f"file://{share}"

    dumped = main("dump", "main")
    listed = main("list", "main/a/b", "--remote", "--json")

    assert dumped.returncode == 0, dumped
    for name in AWKWARD:
        [archive] = backups(main, name)
        copied = share / "main" / segment(name)
        assert sorted(p.name for p in copied.iterdir() if not p.name.startswith(".")) == [
            archive,
            f"{archive}.sha256",
            archive.removesuffix(".dump") + ".globals.sql",
            archive.removesuffix(".dump") + ".globals.sql.sha256",
        ]
    [entry] = json.loads(listed.stdout)["backups"]
    assert entry["database"] == "main/a/b"
    assert entry["location"] == f"file://{share}/main/a%252Fb/{entry['name']}"


def test_the_service_s_backup_commands_run_around_each_of_its_databases(
    main: Controller,
) -> None:
    told = main.workdir / "told"
    told.mkdir()
    post = main.workdir / "post.sh"
    post.write_text(
        f'#!/bin/sh\nprintf "%s|%s\\n" "$BACKUP_DATABASE" "$BACKUP_DBNAME" >> {told}/post\n'
    )
    post.chmod(0o755)
    main.env["MAIN_POST_BACKUP_COMMAND"] = str(post)

    dumped = main("dump", "main")

    assert dumped.returncode == 0, dumped
    lines = sorted((told / "post").read_text().splitlines())
    assert lines == sorted(f"main/{name}|{name}" for name in AWKWARD)
