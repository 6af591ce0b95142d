"""The server as a replication client sees it, against a throwaway PostgreSQL 15 cluster
of this host: its identity, each refusal in its one line, and its slots.

One cluster serves the module; a test that needs another configuration changes it
for its own duration (``configured``). The slot checks run against the fake too
(``side``), so the unit tests' ``FakeReplicationServer`` stays honest.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Protocol

import attrs
import pytest

from pg_backup_manager.adapters.pitr.replication import PsqlReplicationServer
from pg_backup_manager.adapters.postgres.pg_binaries import PgBinaries
from pg_backup_manager.domain.errors import ConfigurationError, ReplicationRefusedError, ToolError
from pg_backup_manager.domain.model import Database
from pg_backup_manager.domain.pitr.ports import ReplicationServer

from ..unit.fakes import FakeReplicationServer
from .pitr_cluster import host_cluster
from .regression_db import PASSWORD, HostServer, as_postgres
from .running import wait_until
from .servers import PG_BIN, psql

pytestmark = pytest.mark.integration

BINARIES = PgBinaries(root=Path("/usr/lib/postgresql"), bin_dir=PG_BIN)
SLOT = "pg_backup_manager_users"
NO_REPLICATION_PASSWORD = "norep-secret-word"


@pytest.fixture(scope="module")
def host() -> Iterator[HostServer]:
    with host_cluster("replication") as cluster:
        yield cluster


def users(host: HostServer, *, user: str = "postgres", password: str = PASSWORD) -> Database:
    return Database(
        identifier="users",
        host="127.0.0.1",
        port=host.port,
        user=user,
        dbname="postgres",
        password=password,
    )


REAL = PsqlReplicationServer(binaries=BINARIES, timeout=60)


@contextmanager
def configured(
    host: HostServer, *, settings: str = "", replication_lines: bool = True
) -> Iterator[None]:
    """Run the block with ``settings`` added to the cluster's configuration (and without
    the ``pg_hba.conf`` lines for replication when ``replication_lines`` is false)."""
    auto = host.data / "postgresql.auto.conf"
    hba = host.data / "pg_hba.conf"
    saved_auto, saved_hba = auto.read_text(), hba.read_text()
    # A slot left behind would keep a server with no slots or wal_level = minimal from starting.
    drop_all = "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
    psql(host.server, drop_all, db="postgres")
    if not replication_lines:
        kept = [line for line in saved_hba.splitlines(True) if "replication" not in line]
        hba.write_text("".join(kept))
    auto.write_text(saved_auto + settings)
    host.stop()
    host.start()
    try:
        yield
    finally:
        auto.write_text(saved_auto)
        hba.write_text(saved_hba)
        host.stop()
        host.start()


def refusal_of(action: Callable[[], object]) -> str:
    with pytest.raises(ReplicationRefusedError) as refused:
        action()
    line = str(refused.value)
    assert PASSWORD not in line
    assert NO_REPLICATION_PASSWORD not in line
    return line


def test_identify_says_the_clusters_own_system_identifier_timeline_and_segment_size(
    host: HostServer,
) -> None:
    control = as_postgres(str(PG_BIN / "pg_controldata"), str(host.data))
    system_identifier = next(
        line.split(":")[1].strip()
        for line in control.splitlines()
        if line.startswith("Database system identifier:")
    )
    before = int(psql(host.server, "SELECT pg_current_wal_lsn() - '0/0'", db="postgres"))

    identity = REAL.identify(users(host))

    assert identity.system_identifier == system_identifier
    assert identity.timeline == 1
    assert identity.wal_segment_size == 16 * 1024 * 1024
    assert identity.server_major == 15
    assert identity.current_lsn >= before > 0


def test_no_hba_line_for_replication_says_the_line_to_add(host: HostServer) -> None:
    with configured(host, replication_lines=False):
        line = refusal_of(lambda: REAL.identify(users(host)))

    assert line == (
        f"users: the server at 127.0.0.1:{host.port} has no pg_hba.conf line for replication "
        'connections of user "postgres" (it sees this controller as 127.0.0.1): add '
        '"host replication postgres all scram-sha-256" to its pg_hba.conf, then run '
        "SELECT pg_reload_conf()"
    )


def test_a_role_without_replication_is_told_how_to_get_it_for_streams_and_slots(
    host: HostServer,
) -> None:
    psql(
        host.server,
        "DROP ROLE IF EXISTS norep; "
        f"CREATE ROLE norep LOGIN NOREPLICATION PASSWORD '{NO_REPLICATION_PASSWORD}'",
        db="postgres",
    )
    norep = users(host, user="norep", password=NO_REPLICATION_PASSWORD)

    streaming = refusal_of(lambda: REAL.identify(norep))
    slot = refusal_of(lambda: REAL.create_slot(norep, SLOT))

    expected = (
        f'users: the server at 127.0.0.1:{host.port} says user "norep" lacks the REPLICATION '
        "attribute: run ALTER ROLE norep REPLICATION as a superuser"
    )
    assert streaming == expected
    assert slot == expected


def test_no_wal_senders_says_to_set_max_wal_senders(host: HostServer) -> None:
    with configured(host, settings="max_wal_senders = 0\n"):
        line = refusal_of(lambda: REAL.identify(users(host)))

    assert line == (
        f"users: the server at 127.0.0.1:{host.port} allows no replication connections "
        "(max_wal_senders = 0): set max_wal_senders to 10 (the default; the receiver takes "
        "one, each base backup two) and restart the server"
    )


def test_wal_level_minimal_says_to_set_wal_level_not_the_senders(host: HostServer) -> None:
    with configured(host, settings="wal_level = minimal\nmax_wal_senders = 0\n"):
        line = refusal_of(lambda: REAL.identify(users(host)))

    assert line == (
        f"users: the server at 127.0.0.1:{host.port} has wal_level = minimal, which allows no "
        "replication: set wal_level = replica (and max_wal_senders = 10, the default) and "
        "restart the server"
    )


def test_no_replication_slots_says_to_set_max_replication_slots(host: HostServer) -> None:
    with configured(host, settings="max_replication_slots = 0\n"):
        line = refusal_of(lambda: REAL.create_slot(users(host), SLOT))

    assert line == (
        f"users: the server at 127.0.0.1:{host.port} has replication slots turned off "
        "(max_replication_slots = 0): set max_replication_slots to 10 (the default) and "
        "restart the server"
    )


def test_every_slot_in_use_says_to_free_one(host: HostServer) -> None:
    with configured(host, settings="max_replication_slots = 1\n"):
        REAL.create_slot(users(host), "other_tool")
        line = refusal_of(lambda: REAL.create_slot(users(host), SLOT))

    assert line.startswith(
        f"users: the server at 127.0.0.1:{host.port} has every replication slot in use "
        "(the receiver keeps one, each base backup takes a temporary one): drop one "
    )


def test_a_wrong_password_keeps_the_words_of_every_tool_and_is_no_refusal(
    host: HostServer,
) -> None:
    with pytest.raises(ToolError) as failed:
        REAL.identify(users(host, password="not-the-password"))

    assert type(failed.value) is ToolError
    assert "password authentication failed" in str(failed.value)
    assert "(check USERS_POSTGRES_USER and USERS_POSTGRES_PASSWORD)" in str(failed.value)
    assert "not-the-password" not in str(failed.value)


# The same checks against the fake and the real adapter.


class Hand(Protocol):
    """What a test does to the server behind the port's back."""

    def write(self) -> None:
        """Write WAL and move the server on to a new segment."""

    def use(self, slot: str) -> AbstractContextManager[None]:
        """Keep a receiver streaming through ``slot`` for the block."""


@attrs.frozen
class FakeHand:
    fake: FakeReplicationServer

    def write(self) -> None:
        self.fake.write(16 * 1024 * 1024)

    @contextmanager
    def use(self, slot: str) -> Iterator[None]:
        self.fake.use(slot)
        try:
            yield
        finally:
            self.fake.use(slot, active=False)


@attrs.frozen
class RealHand:
    host: HostServer
    where: Path

    def write(self) -> None:
        psql(
            self.host.server,
            "CREATE TABLE IF NOT EXISTS w (n int); INSERT INTO w SELECT generate_series(1, 1000);"
            " SELECT pg_switch_wal();",
            db="postgres",
        )

    @contextmanager
    def use(self, slot: str) -> Iterator[None]:
        receiver = subprocess.Popen(
            [
                str(PG_BIN / "pg_receivewal"),
                f"--directory={self.where}",
                f"--slot={slot}",
                "--no-password",
                f"--dbname=host=127.0.0.1 port={self.host.port} user=postgres",
            ],
            env={"PATH": "/usr/bin:/bin", "PGPASSWORD": PASSWORD},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        active = f"SELECT active FROM pg_replication_slots WHERE slot_name = '{slot}'"
        try:
            wait_until(
                lambda: psql(self.host.server, active, db="postgres").strip() == "t",
                30,
                f"pg_receivewal on slot {slot}",
            )
            yield
        finally:
            receiver.terminate()
            receiver.wait(30)
            wait_until(
                lambda: psql(self.host.server, active, db="postgres").strip() == "f",
                30,
                f"slot {slot} let go",
            )


@attrs.frozen
class Side:
    server: ReplicationServer
    hand: Hand
    database: Database


@pytest.fixture(params=["fake", "psql"])
def side(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Side]:
    if request.param == "fake":
        fake = FakeReplicationServer()
        yield Side(server=fake, hand=FakeHand(fake), database=users_of_fake())
        return
    host: HostServer = request.getfixturevalue("host")
    tmp_path.chmod(0o755)
    yield Side(server=REAL, hand=RealHand(host=host, where=tmp_path), database=users(host))
    REAL.drop_slot(users(host), SLOT)


def users_of_fake() -> Database:
    return Database(
        identifier="users", host="db", port=5432, user="postgres", dbname="app", password="pw"
    )


def test_a_slot_is_created_holding_wal_from_now_and_read_back(side: Side) -> None:
    now = side.server.identify(side.database).current_lsn
    assert side.server.slot(side.database, SLOT) is None

    side.server.create_slot(side.database, SLOT)
    slot = side.server.slot(side.database, SLOT)

    assert slot is not None
    assert slot.name == SLOT
    assert slot.active is False
    assert slot.restart_lsn is not None
    assert slot.restart_lsn <= now + 1024 * 1024
    assert slot.wal_status == "reserved"
    assert slot.safe_wal_size is None  # max_slot_wal_keep_size = -1, the default
    assert slot.retained_bytes is not None and slot.retained_bytes >= 0


def test_the_bytes_a_slot_holds_grow_while_no_receiver_uses_it(side: Side) -> None:
    side.server.create_slot(side.database, SLOT)
    before = side.server.slot(side.database, SLOT)

    side.hand.write()
    after = side.server.slot(side.database, SLOT)

    assert before is not None and after is not None
    assert before.retained_bytes is not None and after.retained_bytes is not None
    assert after.retained_bytes > before.retained_bytes
    assert after.restart_lsn == before.restart_lsn


def test_a_slot_that_exists_is_not_created_again(side: Side) -> None:
    side.server.create_slot(side.database, SLOT)

    with pytest.raises(ToolError, match="already exists"):
        side.server.create_slot(side.database, SLOT)


def test_a_dropped_slot_is_gone_and_dropping_a_missing_one_does_nothing(side: Side) -> None:
    side.server.create_slot(side.database, SLOT)

    side.server.drop_slot(side.database, SLOT)
    side.server.drop_slot(side.database, SLOT)

    assert side.server.slot(side.database, SLOT) is None


def test_a_slot_in_use_is_shown_active_and_is_not_dropped(side: Side) -> None:
    side.server.create_slot(side.database, SLOT)

    with side.hand.use(SLOT):
        slot = side.server.slot(side.database, SLOT)
        with pytest.raises(ToolError, match="is active"):
            side.server.drop_slot(side.database, SLOT)

    assert slot is not None and slot.active is True
    assert side.server.slot(side.database, SLOT) is not None


@pytest.mark.parametrize("name", ["", "Users", "pg-backup", "x" * 64, "a'; DROP TABLE w; --"])
def test_a_name_that_is_no_slot_name_is_refused_before_the_server_is_asked(
    side: Side, name: str
) -> None:
    for ask in (side.server.slot, side.server.create_slot, side.server.drop_slot):
        with pytest.raises(ConfigurationError, match="is not a replication slot name"):
            ask(side.database, name)
