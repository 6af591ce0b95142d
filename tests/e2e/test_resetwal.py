"""``resetwal`` in the controller container, on the database services' own volumes.

The controller mounts each server's data volume at
/var/lib/postgresql/databases/<service>: for pg15 and pg17 the volume is the data
directory, for pg18 (the official image's layout from 18 on) the data directory
is ``18/docker`` inside it, which the controller finds by itself. The servers'
postgres user is uid 999, as the controller's, so it runs the directory's own
``pg_resetwal`` (15, 17 or 18) as its owner. A database service is stopped with
``docker-compose stop`` (a clean, fast shutdown) and always started again, so the
other tests find it running.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from ..integration.process import assert_one_line_error
from ..integration.servers import PgServer, psql
from .stack import (
    DATABASES_ROOT,
    E2E_SERVERS,
    POSTGRES_IDS,
    ContainerStack,
    data_dir_in_container,
    pgdata_in_container,
)

pytestmark = pytest.mark.integration

ROWS = 1000
SERVERS = pytest.mark.parametrize(
    "server", [server for server, _ in E2E_SERVERS.values()], ids=list(E2E_SERVERS)
)


@pytest.fixture(scope="module")
def stack(container_stack: ContainerStack) -> ContainerStack:
    """The stack, with a table ``resetwal_check`` of ROWS rows in each server's postgres db."""
    for server, _ in E2E_SERVERS.values():
        psql(
            server,
            "DROP TABLE IF EXISTS resetwal_check;\n"
            f"CREATE TABLE resetwal_check AS SELECT generate_series(1, {ROWS}) AS i;\n",
            db="postgres",
        )
    return container_stack


@contextmanager
def stopped(stack: ContainerStack, server: PgServer) -> Iterator[None]:
    stack.stop_server(server)
    try:
        yield
    finally:
        stack.start_server(server)


def control_state(stack: ContainerStack, server: PgServer) -> tuple[str, list[str]]:
    """The control file's checksum and the WAL files: what pg_resetwal rewrites."""
    directory = pgdata_in_container(server.service)
    return stack.sha256(directory / "global" / "pg_control"), sorted(
        stack.files(directory / "pg_wal")
    )


def rows(server: PgServer) -> int:
    return int(psql(server, "SELECT count(*) FROM resetwal_check", db="postgres"))


@SERVERS
def test_resetwal_refuses_while_the_server_runs(stack: ContainerStack, server: PgServer) -> None:
    before = control_state(stack, server)

    run = stack.controller("resetwal", server.service)

    assert_one_line_error(run, 1)
    assert "running" in run.stderr or "postmaster.pid" in run.stderr, run
    assert control_state(stack, server) == before
    assert rows(server) == ROWS


@SERVERS
def test_resetwal_dry_run_of_a_stopped_server_changes_nothing(
    stack: ContainerStack, server: PgServer
) -> None:
    with stopped(stack, server):
        before = control_state(stack, server)

        run = stack.controller("resetwal", server.service, "--dry-run")

        assert run.returncode == 0, run
        assert "pg_control values" in run.stdout, run
        assert "nothing was changed" in run.stdout, run
        assert control_state(stack, server) == before
    assert rows(server) == ROWS


@SERVERS
def test_resetwal_of_a_stopped_server_saves_what_it_changes_and_the_server_starts_again(
    stack: ContainerStack, server: PgServer
) -> None:
    backups = data_dir_in_container(server.service)
    earlier = set(stack.files(backups))
    with stopped(stack, server):
        before = control_state(stack, server)

        run = stack.controller("resetwal", server.service)

        assert run.returncode == 0, run
        assert "Write-ahead log reset" in run.stdout, run
        assert f"controller dump {server.service}" in run.stdout, run  # the next steps
        assert control_state(stack, server) != before
        owners = stack.files(pgdata_in_container(server.service) / "global")
        assert set(owners.values()) == {POSTGRES_IDS}, owners
    [saved] = [name for name in stack.files(backups) if name not in earlier]
    assert saved.startswith("resetwal-"), saved
    assert str(backups / saved) in run.stdout, run
    assert (
        stack.sha256(backups / saved / "pg_control"),
        sorted(stack.files(backups / saved / "pg_wal")),
    ) == before
    assert set(stack.files(backups / saved).values()) == {POSTGRES_IDS}
    assert rows(server) == ROWS
    assert stack.controller("dump", server.service).returncode == 0


def test_resetwal_refuses_a_data_directory_of_a_version_the_image_does_not_ship(
    stack: ContainerStack,
) -> None:
    directory = DATABASES_ROOT / "old13"
    stack.sh(
        f"mkdir '{directory}' && echo 13 > '{directory}/PG_VERSION' "
        f"&& chown -R postgres:postgres '{directory}' && chmod 700 '{directory}'"
    )
    try:
        for args in (("resetwal", "old13"), ("resetwal", "old13", "--dry-run")):
            run = stack.controller(*args, env={"DATABASE_LIST": "old13"})

            assert_one_line_error(run, 1)
            assert "PostgreSQL 13" in run.stderr, run
        assert stack.files(directory) == {"PG_VERSION": POSTGRES_IDS}
        assert stack.sh(f"cat '{directory}/PG_VERSION'") == "13\n"
    finally:
        stack.sh(f"rm -rf '{directory}'")
