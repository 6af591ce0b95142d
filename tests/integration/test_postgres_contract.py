"""One set of checks run against the fakes of the server and of the archive checker and
against their real adapters (``psql`` and ``pg_restore`` on a real PostgreSQL 15), so
that the unit tests' fakes stay honest.

Each side arranges its own world (``Hand``: a table with rows in a database; an
archive that reads well and one cut short), then the same checks run.
"""

from __future__ import annotations

import hashlib
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import attrs
import pytest

from pg_backup_manager.adapters.postgres.archive import PgArchiveChecker
from pg_backup_manager.adapters.postgres.pg_binaries import PgBinaries
from pg_backup_manager.adapters.postgres.psql_server import PsqlServer
from pg_backup_manager.domain.backups.ports import ArchiveChecker
from pg_backup_manager.domain.errors import IntegrityError
from pg_backup_manager.domain.model import ArchiveTable, Database, TableName

from ..unit.fakes import FakeArchiveChecker, FakeServer
from .servers import PG_A, PG_BIN, PgServers, psql

pytestmark = pytest.mark.integration

BINARIES = PgBinaries(root=Path("/usr/lib/postgresql"), bin_dir=PG_BIN)
USERS = Database(
    identifier="users",
    host=PG_A.host,
    port=PG_A.port,
    user=PG_A.user,
    dbname="postgres",
    password=PG_A.password,
)


class Hand(Protocol):
    """What a test does to the server behind the port's back."""

    def fill(self, name: str, rows: int) -> None:
        """Give database ``name`` a table public.t of ``rows`` rows."""


@attrs.frozen
class FakeHand:
    server: FakeServer

    def fill(self, name: str, rows: int) -> None:
        self.server.rows = {TableName(schema="public", table="t"): rows}


@attrs.frozen
class RealHand:
    def fill(self, name: str, rows: int) -> None:
        psql(
            PG_A,
            f"CREATE TABLE t (n int); INSERT INTO t SELECT generate_series(1, {rows})",
            db=name,
        )


@attrs.frozen
class Side:
    server: FakeServer | PsqlServer
    hand: Hand


@pytest.fixture(params=["fake", "psql"])
def side(request: pytest.FixtureRequest) -> Iterator[Side]:
    if request.param == "fake":
        fake = FakeServer()
        yield Side(server=fake, hand=FakeHand(fake))
        return
    request.getfixturevalue("pg")
    server = PsqlServer(binaries=BINARIES, timeout=60)
    yield Side(server=server, hand=RealHand())
    for leftover in server.temporary_databases(USERS, prefixes=[PREFIX]):
        server.drop(USERS, leftover.name)


PREFIX = "contract_"


def unique(what: str) -> str:
    return f"{PREFIX}{what}_{uuid.uuid4().hex[:8]}"


def test_a_database_created_with_a_comment_is_listed_with_it_until_dropped(side: Side) -> None:
    name = unique("made")

    side.server.create(USERS, name, comment="made by the contract")
    listed = side.server.temporary_databases(USERS, prefixes=[PREFIX])
    existed = side.server.exists(USERS, name)
    side.server.drop(USERS, name)

    assert existed
    assert [(d.name, d.comment) for d in listed] == [(name, "made by the contract")]
    assert not side.server.exists(USERS, name)
    assert side.server.temporary_databases(USERS, prefixes=[PREFIX]) == []


def test_a_renamed_database_keeps_its_comment_under_its_new_name_only(side: Side) -> None:
    old, new = unique("old"), unique("new")
    side.server.create(USERS, old, comment="set aside")

    side.server.rename(USERS, old, new)

    assert not side.server.exists(USERS, old)
    assert side.server.exists(USERS, new)
    assert [
        (d.name, d.comment) for d in side.server.temporary_databases(USERS, prefixes=[PREFIX])
    ] == [(new, "set aside")]


def test_properties_exist_only_for_a_database_that_does(side: Side) -> None:
    name = unique("props")
    side.server.create(USERS, name)

    assert side.server.properties(USERS, name) is not None
    assert side.server.properties(USERS, unique("missing")) is None


def test_the_cluster_names_its_roles_and_databases(side: Side) -> None:
    name = unique("named")
    side.server.create(USERS, name)

    roles, databases = side.server.cluster_names(USERS)

    assert USERS.user in roles
    assert {"postgres", name} <= databases


def test_rows_are_counted_per_table(side: Side) -> None:
    name = unique("rows")
    side.server.create(USERS, name)
    side.hand.fill(name, 5)

    counts = side.server.row_counts(USERS, name)

    assert counts == {TableName(schema="public", table="t"): 5}


@attrs.frozen
class Archives:
    """A checker, an archive that reads well (with public.t of 3 rows) and one cut short."""

    checker: ArchiveChecker
    good: Path
    cut: Path


def cut_short(good: Path, cut: Path) -> None:
    data = good.read_bytes()
    cut.write_bytes(data[: len(data) * 2 // 3])


@pytest.fixture(params=["fake", "pg_restore"])
def archives(request: pytest.FixtureRequest, tmp_path: Path) -> Archives:
    good, cut = tmp_path / "good.dump", tmp_path / "cut.dump"
    if request.param == "fake":
        good.write_bytes(b"PGDMP fake archive")
        cut_short(good, cut)
        checker = FakeArchiveChecker(
            unreadable={cut.name},
            hashes={p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (good, cut)},
            rows_in_archive={f"public t {PG_A.user}": 3},
        )
        return Archives(checker=checker, good=good, cut=cut)
    pg: PgServers = request.getfixturevalue("pg")
    psql(pg.a, "CREATE TABLE t (n int); INSERT INTO t VALUES (1), (2), (3)")
    server = ["-h", pg.a.host, "-p", str(pg.a.port), "-U", pg.a.user]
    subprocess.run(
        [str(PG_BIN / "pg_dump"), "-Fc", *server, "-f", str(good), "appdb"],
        env={"PGPASSWORD": pg.a.password},
        check=True,
        capture_output=True,
    )
    cut_short(good, cut)
    return Archives(checker=PgArchiveChecker(binaries=BINARIES, timeout=60), good=good, cut=cut)


def test_an_archive_that_reads_to_its_end_is_checked_to_its_sha256(archives: Archives) -> None:
    checksum = archives.checker.check(archives.good)

    assert checksum == hashlib.sha256(archives.good.read_bytes()).hexdigest()
    assert archives.checker.digest(archives.good) == checksum


def test_an_archive_cut_short_fails_its_check_naming_it_but_still_hashes(
    archives: Archives,
) -> None:
    with pytest.raises(IntegrityError, match=f"{archives.cut} is damaged"):
        archives.checker.check(archives.cut)

    assert (
        archives.checker.digest(archives.cut)
        == hashlib.sha256(archives.cut.read_bytes()).hexdigest()
    )


def test_an_archive_tells_its_rows_per_table_and_who_made_it(archives: Archives) -> None:
    rows = archives.checker.row_counts(archives.good)
    made_by = archives.checker.made_by(archives.good)

    assert rows == [ArchiveTable(label=f"public t {PG_A.user}", rows=3)]
    assert made_by.pg_dump is not None and made_by.pg_dump[0].isdigit()
    assert made_by.server is not None and made_by.server[0].isdigit()
