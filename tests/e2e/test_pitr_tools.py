"""The programs of point-in-time recovery, as the controller image carries them.

Inside the controller container, as the postgres user, for each server of the
stack (15, 17, 18): the image's pg_basebackup (18's) takes a plain base backup
with a SHA-256 manifest and its WAL, the pg_verifybackup of the server's own
major version checks it (and runs the pg_waldump beside it on that WAL), and the
server of that major starts on the copy, replays it and answers on a Unix
socket: every binary and library each step needs is in the image. The servers
accept replication connections from the controller only because of the line
docker/e2e/initdb-replication.sh adds to their pg_hba.conf.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator

import pytest

from ..integration.servers import PgServer, psql
from .stack import E2E_SERVERS, ContainerStack, assert_no_password

pytestmark = pytest.mark.integration

SERVERS = pytest.mark.parametrize(
    ("server", "major"), list(E2E_SERVERS.values()), ids=list(E2E_SERVERS)
)
# The image's client tools (PG_BIN_DIR) and the root of every major's programs.
CLIENT_BIN = "$PG_BIN_DIR"
MAJOR_BIN = "/usr/lib/postgresql/{major}/bin"
# PGPASSWORD without a value: docker takes it from its own environment.
EXEC_AS_POSTGRES = ("docker", "exec", "-e", "PGPASSWORD", "--user=postgres")
# The locale the official postgres image initialises its clusters with.
OFFICIAL_LOCALE = "en_US.UTF-8"


def in_controller(
    stack: ContainerStack, server: PgServer, script: str, *, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Runs ``sh -c script`` as postgres in the controller, with ``server``'s password.

    The password reaches the container through the environment
    (``docker exec -e PGPASSWORD``), never a command line; it must not show in
    the output. AssertionError with the output when ``check`` and it fails.
    """
    result = subprocess.run(
        [*EXEC_AS_POSTGRES, stack.controller_id, "sh", "-euc", script],
        env={**os.environ, "PGPASSWORD": server.password},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    print(f"$ {script}\n-> {result.returncode}\n{result.stdout}{result.stderr}")
    assert_no_password(result.stdout + result.stderr, script)
    if check and result.returncode != 0:
        raise AssertionError(f"exited {result.returncode}: {result.stdout}{result.stderr}")
    return result


@pytest.fixture
def scratch(container_stack: ContainerStack) -> Iterator[str]:
    """A directory in the controller's /tmp that is gone after the test, whatever happened."""
    directory = f"/tmp/pitr-tools-{uuid.uuid4().hex[:8]}"
    yield directory
    container_stack.sh(f"rm -rf '{directory}'")


def base_backup(stack: ContainerStack, server: PgServer, into: str) -> None:
    """Takes a plain base backup of ``server`` into ``into``/data with the image's pg_basebackup."""
    conninfo = f"host={server.host} port={server.port} user={server.user} dbname=appdb"
    in_controller(
        stack,
        server,
        f"mkdir -p '{into}' && {CLIENT_BIN}/pg_basebackup -d '{conninfo}' -D '{into}/data' "
        "-Fp -X stream --checkpoint=fast --manifest-checksums=SHA256 --no-password",
    )


@SERVERS
def test_a_base_backup_of_each_server_verifies_and_its_major_starts_on_it(
    container_stack: ContainerStack, server: PgServer, major: int, scratch: str
) -> None:
    marker = uuid.uuid4().hex
    psql(server, f"DROP TABLE IF EXISTS pitr_tools; CREATE TABLE pitr_tools AS SELECT '{marker}' m")
    base_backup(container_stack, server, scratch)

    verified = in_controller(
        container_stack, server, f"{MAJOR_BIN.format(major=major)}/pg_verifybackup '{scratch}/data'"
    )
    # The server replays the backup's WAL (backup_label, no recovery.signal: crash
    # recovery to the end of the backup), comes up, and serves the marker and a
    # database in the official image's locale; SIGINT is a fast shutdown.
    bin_dir = MAJOR_BIN.format(major=major)
    socket, port = f"{scratch}/socket", 54000 + major
    ask = f"{CLIENT_BIN}/psql -X -A -t -h '{socket}' -p {port} -U postgres"
    started = in_controller(
        container_stack,
        server,
        f"mkdir -m 700 '{socket}'\n"
        f"{bin_dir}/postgres -D '{scratch}/data' -c port={port} -c listen_addresses='' "
        f"-c unix_socket_directories='{socket}' -c jit=off >'{scratch}/server.log' 2>&1 &\n"
        "server=$!\n"
        "trap 'kill -INT $server; wait $server' EXIT\n"
        f"i=0; until {ask} -d appdb -c 'select 1' >/dev/null 2>&1; do\n"
        f"  i=$((i+1)); [ $i -lt 120 ] || {{ cat '{scratch}/server.log'; exit 1; }}; sleep 0.5\n"
        "done\n"
        f"{ask} -d appdb -c 'select m from pitr_tools'\n"
        f"{ask} -d appdb -c 'select current_setting($$server_version_num$$)::int / 10000'\n"
        f'{ask} -d postgres -c "create database official_locale template template0 '
        f"locale '{OFFICIAL_LOCALE}'\" >/dev/null\n"
        f"{ask} -d official_locale -c 'select 1'\n",
    )
    stopped = in_controller(
        container_stack,
        server,
        f"cat '{scratch}/server.log'; ! [ -e '{scratch}/data/postmaster.pid' ]",
    )

    assert "backup successfully verified" in verified.stdout, verified
    assert started.stdout.splitlines() == [marker, str(major), "1"], started
    assert "database system is shut down" in stopped.stdout, stopped


@SERVERS
def test_the_verifier_of_each_major_refuses_a_backup_with_one_file_altered(
    container_stack: ContainerStack, server: PgServer, major: int, scratch: str
) -> None:
    base_backup(container_stack, server, scratch)
    # The same size, one byte changed: only the manifest's SHA-256 can tell.
    in_controller(
        container_stack,
        server,
        f"printf x | dd of='{scratch}/data/PG_VERSION' bs=1 seek=0 conv=notrunc 2>/dev/null",
    )

    refused = in_controller(
        container_stack,
        server,
        f"{MAJOR_BIN.format(major=major)}/pg_verifybackup '{scratch}/data'",
        check=False,
    )

    assert refused.returncode != 0, refused
    # 15 says `checksum mismatch for file "PG_VERSION"`, 17 and 18 may word it otherwise.
    assert "checksum mismatch" in refused.stderr and '"PG_VERSION"' in refused.stderr, refused
