"""BACKUP_COMPRESSION: what ``config`` accepts, real ``pg_dump`` takes; what it refuses
stops every command with exit 2 before anything runs.

The host's tools are PostgreSQL 15 (a gzip level only); pg_dump 17, which has
methods and details (``zstd:3``, ``zstd:long``), runs inside the ``pg-new``
container against its own server.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pg_backup_manager.adapters.postgres.pg_dump import compress_arguments
from pg_backup_manager.adapters.settings import Settings

from .process import Controller, assert_one_line_error
from .servers import PG_A, PG_NEW, PgServers, psql

pytestmark = pytest.mark.integration

# Each method at both ends of its range, without a level, and the bare gzip levels.
ACCEPTED = [
    "none",
    "0",
    "9",
    "gzip",
    "gzip:1",
    "gzip:9",
    " GZIP:05 ",
    "lz4",
    "lz4:1",
    "lz4:12",
    "zstd",
    "zstd:1",
    "zstd:22",
]
NEEDS_16_ON_15 = [value for value in ACCEPTED if value.startswith(("lz4", "zstd"))]
# Out of range, malformed, or a pg_dump detail the controller does not pass on.
REFUSED = [
    "gzip:99",
    "gzip:0",
    "gzip:10",
    "lz4:13",
    "lz4:0",
    "zstd:0",
    "zstd:23",
    "zstd:-1",
    "zstd:",
    "gzip:1:2",
    "zstd:long",
    "zstd:level=3",
    "none:1",
    "10",
    "brotli",
]
# Of those, what pg_dump 17 refuses too: the ranges are pg_dump's own.
REFUSED_BY_PG_DUMP_TOO = ["gzip:99", "gzip:0", "gzip:10", "lz4:13", "zstd:23", "zstd:", "none:1"]


def settings_of(compression: str) -> str | None:
    environ = {"DATABASE_LIST": "a", "BACKUP_COMPRESSION": compression}
    return Settings.from_environ(environ, cwd=Path("/nowhere")).compression


def pg_dump_17(compose: list[str], options: list[str]) -> dict[str, str]:
    """Run pg_dump 17 in pg-new with each of ``options``; return what each did
    ("0", or its exit code and last words)."""
    script = (
        'for option in "$@"; do '
        f"if PGPASSWORD={PG_NEW.password} /usr/lib/postgresql/17/bin/pg_dump -h 127.0.0.1 "
        f'-p {PG_NEW.port} -U postgres --format=custom --no-sync -f /dev/null "$option" postgres '
        "2>/tmp/pg_dump.err; "
        'then echo "$option 0"; else echo "$option $? $(tail -n 1 /tmp/pg_dump.err)"; fi; '
        "done"
    )
    done = subprocess.run(
        [*compose, "exec", "-T", PG_NEW.service, "sh", "-c", script, "sh", *options],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    said = dict(line.split(" ", 1) for line in done.stdout.splitlines())
    assert sorted(said) == sorted(options), done
    return said


@pytest.fixture
def compose(
    pg_servers: PgServers,
    docker_compose_command: str,
    docker_compose_file: str,
    docker_compose_project_name: str,
) -> list[str]:
    return [docker_compose_command, "-f", docker_compose_file, "-p", docker_compose_project_name]


def test_every_compression_config_accepts_is_taken_by_pg_dump_17(compose: list[str]) -> None:
    options = [compress_arguments(settings_of(value), 17)[0] for value in ACCEPTED]
    beyond = [f"--compress={value}" for value in REFUSED_BY_PG_DUMP_TOO]

    said = pg_dump_17(compose, options + beyond)

    assert {option: said[option] for option in options} == dict.fromkeys(options, "0")
    assert [option for option in beyond if said[option].startswith("0")] == []


def test_every_compression_config_accepts_dumps_with_the_hosts_pg_dump_15_or_is_exit_2(
    pg: PgServers, controller: Controller
) -> None:
    psql(pg.a, "CREATE TABLE t AS SELECT generate_series(1, 100) AS id")
    controller.add_database("a", pg.a)

    for value in ACCEPTED:
        controller.env["BACKUP_COMPRESSION"] = value
        config, dump = controller("config"), controller("dump", "a")

        if value in NEEDS_16_ON_15:
            for run in (config, dump):
                assert_one_line_error(run, 2)
                assert "needs pg_dump 16 or newer" in run.stderr, run
        else:
            assert config.returncode == 0, config
            assert dump.returncode == 0, dump
    assert len(controller.backups("a")) == len(ACCEPTED) - len(NEEDS_16_ON_15)


@pytest.mark.parametrize("value", REFUSED)
def test_a_compression_config_refuses_stops_config_and_dump_with_exit_2(
    controller: Controller, value: str
) -> None:
    controller.add_database("a", PG_A)
    controller.env["BACKUP_COMPRESSION"] = value

    runs = [controller("config"), controller("dump", "a")]

    for run in runs:
        assert_one_line_error(run, 2)
        assert run.stderr.startswith("error: BACKUP_COMPRESSION"), run


def test_config_shows_the_tools_in_use_and_the_compression_they_get(
    controller: Controller,
) -> None:
    controller.add_database("a", PG_A)

    run = controller("config")

    assert run.returncode == 0, run
    shown = {line.split()[0]: line.split(None, 1)[1] for line in run.stdout.splitlines()}
    assert (
        shown["PG_BIN_DIR"]
        == "/usr/lib/postgresql/15/bin  [default: newest /usr/lib/postgresql/*/bin]"
    )
    assert shown["BACKUP_COMPRESSION"] == "gzip  [default: pg_dump 15's own]"
    assert shown["BACKUP_MAX_AGE"] == "43200  [default: twice the longest gap of BACKUP_SCHEDULE]"
