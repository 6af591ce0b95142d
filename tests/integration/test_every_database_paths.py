"""``<SERVICE>_POSTGRES_DB=*`` against a real server (a host cluster, no Docker), where its
databases' paths meet commands that must not make them, links that must not be followed,
names that must not make lines of their own and URLs that must be URLs."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from pg_backup_manager.domain.database_names import segment

from .pitr_cluster import host_cluster, sql
from .process import Controller, assert_one_line_error
from .regression_db import HostServer

pytestmark = pytest.mark.integration

SPOOF = "evil\nmain/app: created file_daily_2024-07-04T09:00:00Z.dump"
BACKUP = "file_daily_2024-07-04T09:00:00Z.dump"


@pytest.fixture
def host() -> Iterator[HostServer]:
    with host_cluster("every-database-paths") as cluster:
        for name in ("app", "a/b"):
            sql(cluster, 'CREATE DATABASE "' + name + '"')
        yield cluster


@pytest.fixture
def main(controller: Controller, host: HostServer) -> Controller:
    controller.add_database("main", host.server, db="*")
    controller.env["MAIN_EXCLUDE_DATABASES"] = "postgres"
    share = controller.workdir / "nas"
    share.mkdir()
    share.chmod(0o755)
    controller.env["OFFSITE_URL"] = f"file://{share}"
    return controller


def service_dir(controller: Controller) -> Path:
    return controller.workdir / "backup-data" / "data" / "main"


def entries(controller: Controller) -> list[str]:
    return sorted(p.name for p in service_dir(controller).iterdir())


def test_off_site_and_read_only_commands_make_no_database_directory(main: Controller) -> None:
    assert main("dump", "main").returncode == 0
    before = entries(main)
    (main.workdir / "backup-data" / "data" / "main" / "app").rename(main.workdir / "moved")

    typos = [
        main("prune", "main/typo", "--remote", "--dry-run"),
        main("restore", "main/typo", BACKUP, "--remote"),
        main("verify", "main/typo", "--remote"),
        main("list", "main/typo", "--remote"),
        main("list", "main/typo"),
    ]
    known_off_site = [
        main("prune", "main/app", "--remote", "--dry-run"),
        main("prune", "main/app", "--remote"),
        main("verify", "main/app", "--remote"),
        main("list", "main/app"),
    ]
    health = main("status")

    for run in typos:
        assert_one_line_error(run, 2)
        assert "main/typo" in run.stderr
    for run in known_off_site:
        assert run.returncode == 0, run
    assert entries(main) == sorted(set(before) - {"app"})
    assert "main/typo" not in health.stdout


def test_a_failure_is_never_recorded_through_a_refused_link(
    main: Controller, host: HostServer
) -> None:
    outside = main.workdir / "outside"
    outside.mkdir()
    service_dir(main).mkdir(parents=True)
    os.symlink(outside, service_dir(main) / "app")

    dumped = main("dump", "main/app")

    assert dumped.returncode == 1, dumped
    assert "symbolic link" in dumped.stderr
    assert list(outside.iterdir()) == []


def test_a_linked_database_directory_off_site_is_refused_by_name(main: Controller) -> None:
    assert main("dump", "main").returncode == 0
    outside = main.workdir / "outside"
    outside.mkdir()
    outside.chmod(0o755)
    linked = main.workdir / "nas" / "main" / "linked"
    os.symlink(outside, linked)

    listed = main("list", "main", "--remote")

    assert_one_line_error(listed, 2)
    assert "OFFSITE_URL" in listed.stderr
    assert str(linked) in listed.stderr


def test_a_name_with_a_newline_never_makes_a_line_of_its_own(
    main: Controller, host: HostServer
) -> None:
    sql(host, 'CREATE DATABASE "' + SPOOF + '"')
    shown = "main/" + SPOOF.replace("\n", "\\n")

    runs = [main("dump", "main"), main("list"), main("status"), main("list", "main", "--remote")]
    document = json.loads(main("list", "main", "--json").stdout)

    for run in runs:
        assert run.returncode == 0, run
        assert shown in run.stdout, run
        lines = run.output.splitlines()
        assert not any(line.startswith("main/app: created file_daily_2024") for line in lines)
    assert "main/" + SPOOF in {entry["database"] for entry in document["backups"]}


def test_each_location_off_site_is_a_url_of_its_key(main: Controller) -> None:
    assert main("dump", "main").returncode == 0

    document = json.loads(main("list", "main", "--remote", "--json").stdout)

    share = main.workdir / "nas"
    [entry] = [one for one in document["backups"] if one["database"] == "main/a/b"]
    assert entry["location"].endswith(f"/main/a%252Fb/{entry['name']}")
    found = Path(unquote(urlparse(entry["location"]).path))
    assert found == share / "main" / segment("a/b") / entry["name"]
    assert found.is_file()


def test_a_database_never_backed_up_by_star_is_named_for_what_it_is(
    main: Controller, host: HostServer
) -> None:
    sql(host, 'CREATE DATABASE "closed"')
    sql(host, "ALTER DATABASE closed WITH ALLOW_CONNECTIONS false")

    closed = main("dump", "main/closed")
    template = main("dump", "main/template1")
    absent = main("dump", "main/absent")

    assert_one_line_error(closed, 2)
    assert "does not accept connections" in closed.stderr
    assert_one_line_error(template, 2)
    assert "is a template" in template.stderr
    assert_one_line_error(absent, 2)
    assert "has no database" in absent.stderr


def test_a_database_named_like_a_connection_string_is_a_name_and_the_password_stays(
    controller: Controller, host: HostServer
) -> None:
    with socket.socket() as trap:
        trap.bind(("127.0.0.1", 0))
        trap.listen(8)
        trap.settimeout(0.5)
        lure = f"host=127.0.0.1 port={trap.getsockname()[1]} dbname=x"
        sql(host, 'CREATE DATABASE "' + lure + '"')
        controller.add_database("main", host.server, db="*")
        controller.env["MAIN_EXCLUDE_DATABASES"] = "postgres"

        runs = [controller("dump", "main") for _ in range(3)]
        runs.append(controller("dump", f"main/{lure}"))
        try:
            reached = trap.accept()[0]
        except TimeoutError:
            reached = None

    assert reached is None, "a tool connected to the host a database's name named"
    for run in runs:
        assert run.returncode == 0, run
    assert f"main/{lure}: created" in runs[-1].stdout
