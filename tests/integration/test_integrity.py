"""Checksums, archive checks, verify, safety dumps and restores that keep what they must."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pg_backup_manager.domain.restore.scratch import Purpose, ScratchNames

from .data import damage_pagila, database_properties, load_pagila, table_fingerprints
from .process import (
    CONTROLLER,
    Controller,
    assert_one_line_error,
    hand_to_postgres,
    pg_restore_list,
)
from .servers import PG_BIN, PgServers, psql

pytestmark = pytest.mark.integration


@pytest.fixture
def dumped(pg: PgServers, controller: Controller) -> Path:
    """pagila with rows in pg-a's appdb, dumped once (daily, whatever the day: a test
    that dumps a weekly one beside it must find one); returns the backup's path."""
    load_pagila(pg.a)
    controller.add_database("a", pg.a)
    assert controller("dump", "a", "--tier", "daily").returncode == 0
    [name] = controller.backups("a")
    return controller.data_dir("a") / name


def truncate(archive: Path, fraction: float) -> None:
    data = archive.read_bytes()
    archive.write_bytes(data[: int(len(data) * fraction)])


def flip_a_byte_pg_restore_cannot_see(archive: Path) -> None:
    """Flip one byte of ``archive`` where ``pg_restore`` still reads it to the end.

    Such places exist (names and text in the table of contents, uncompressed
    parts): only a checksum can tell that the archive changed.
    """
    original = archive.read_bytes()
    probe = archive.with_name("probe.dump")
    for offset in range(16, min(len(original), 4096)):
        changed = bytearray(original)
        changed[offset] ^= 0x01
        probe.write_bytes(bytes(changed))
        read = subprocess.run(
            [str(PG_BIN / "pg_restore"), "--file=/dev/null", str(probe)],
            capture_output=True,
            check=False,
        )
        if read.returncode == 0:
            probe.unlink()
            archive.write_bytes(bytes(changed))
            return
    raise AssertionError("no byte of the archive's head can change unnoticed by pg_restore")


def test_every_backup_has_a_checksum_that_sha256sum_accepts(dumped: Path) -> None:
    result = subprocess.run(
        ["sha256sum", "-c", f"{dumped.name}.sha256"],
        cwd=dumped.parent,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result
    assert result.stdout.strip() == f"{dumped.name}: OK"


def test_verify_passes_an_intact_backup(dumped: Path, controller: Controller) -> None:
    run = controller("verify", "a")

    assert run.returncode == 0, run
    assert f"a: ok {dumped.name}: checksum and archive ok" in run.stdout


def test_a_truncated_archive_passes_pg_restore_list_but_not_verify_or_restore(
    pg: PgServers, dumped: Path, controller: Controller
) -> None:
    tables = table_fingerprints(pg.a)
    truncate(dumped, 0.8)
    (dumped.parent / f"{dumped.name}.sha256").unlink()  # the archive check alone

    pg_restore_list(dumped)  # reads only the table of contents at the head
    verified = controller("verify", "a")
    restored = controller("restore", "a", dumped.name)

    assert verified.returncode == 3, verified
    assert f"a: FAILED {dumped.name}" in verified.stdout
    assert_one_line_error(restored, 3)
    assert "damaged" in restored.stderr
    assert table_fingerprints(pg.a) == tables


def test_a_flipped_byte_is_caught_by_the_checksum(
    pg: PgServers, dumped: Path, controller: Controller
) -> None:
    tables = table_fingerprints(pg.a)
    flip_a_byte_pg_restore_cannot_see(dumped)

    verified = controller("verify", "a")
    restored = controller("restore", "a", dumped.name)

    assert verified.returncode == 3, verified
    assert_one_line_error(restored, 3)
    assert "corrupt" in restored.stderr
    assert table_fingerprints(pg.a) == tables
    assert len(controller.backups("a")) == 1  # no safety dump was even started


def test_verify_restore_loads_the_backup_in_a_scratch_database_and_counts_rows(
    pg: PgServers, dumped: Path, controller: Controller
) -> None:
    run = controller("verify", "a", dumped.name, "--restore")

    assert run.returncode == 0, run
    assert "row counts match" in run.stdout
    leftovers = psql(
        pg.a, "SELECT datname FROM pg_database WHERE datname LIKE '%verify%'", db="postgres"
    )
    assert leftovers.strip() == ""


def test_verify_restore_counts_what_the_archive_holds_with_inheritance_and_partitions(
    pg: PgServers, controller: Controller
) -> None:
    # pg_dump saves each table's own rows (COPY ONLY): a parent without its
    # children, a partitioned table through its partitions alone.
    psql(
        pg.a,
        """
        CREATE TABLE parent (id int);
        CREATE TABLE child (extra text) INHERITS (parent);
        CREATE TABLE grandchild () INHERITS (child);
        INSERT INTO parent VALUES (1), (2);
        INSERT INTO child VALUES (3, 'x'), (4, 'y'), (5, 'z');
        INSERT INTO grandchild VALUES (6, 'w');
        CREATE TABLE measures (at date, v int) PARTITION BY RANGE (at);
        CREATE TABLE measures_2024 PARTITION OF measures
          FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
        CREATE TABLE measures_2025 PARTITION OF measures
          FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
        INSERT INTO measures VALUES ('2024-05-01', 1), ('2024-06-01', 2), ('2025-02-01', 3);
        """,
    )
    controller.add_database("a", pg.a)
    assert controller("dump", "a").returncode == 0
    [name] = controller.backups("a")

    run = controller("verify", "a", name, "--restore")

    assert run.returncode == 0, run
    assert "restored 5 tables, row counts match" in run.stdout


def test_a_restore_first_saves_the_content_it_replaces(
    pg: PgServers, dumped: Path, controller: Controller
) -> None:
    original = table_fingerprints(pg.a)
    damage_pagila(pg.a)
    # A restore refreshes materialized views: make the damaged state's current too.
    psql(pg.a, "REFRESH MATERIALIZED VIEW public.rental_by_category")
    damaged = table_fingerprints(pg.a)

    run = controller("restore", "a", dumped.name)
    [safety] = [name for name in controller.backups("a") if name != dumped.name]
    assert table_fingerprints(pg.a) == original
    back = controller("restore", "a", safety, "--no-safety-dump")

    assert run.returncode == 0, run
    assert f"saved the content it replaced as {safety}" in run.stdout
    assert back.returncode == 0, back
    assert table_fingerprints(pg.a) == damaged


def test_a_restore_keeps_the_databases_owner_privileges_settings_and_comment(
    pg: PgServers, dumped: Path, controller: Controller
) -> None:
    psql(
        pg.a,
        """
        DROP ROLE IF EXISTS app_owner; DROP ROLE IF EXISTS app_reader;
        CREATE ROLE app_owner; CREATE ROLE app_reader;
        ALTER DATABASE appdb OWNER TO app_owner;
        REVOKE CONNECT, TEMPORARY ON DATABASE appdb FROM PUBLIC;
        GRANT CONNECT ON DATABASE appdb TO app_reader;
        ALTER DATABASE appdb SET work_mem = '77MB';
        ALTER DATABASE appdb SET search_path = 'a schema', public;
        ALTER ROLE app_reader IN DATABASE appdb SET work_mem = '5MB';
        ALTER DATABASE appdb CONNECTION LIMIT 50;
        COMMENT ON DATABASE appdb IS 'the app''s database';
        """,
        db="postgres",
    )
    before = database_properties(pg.a)

    run = controller("restore", "a", dumped.name, "--no-safety-dump")

    assert run.returncode == 0, run
    assert database_properties(pg.a) == before
    assert "app_owner" in before and "77MB" in before


def test_an_archive_without_a_checksum_file_still_restores_on_its_archive_check(
    pg: PgServers, dumped: Path, controller: Controller
) -> None:
    tables = table_fingerprints(pg.a)
    (dumped.parent / f"{dumped.name}.sha256").unlink()
    damage_pagila(pg.a)

    run = controller("restore", "a", dumped.name, "--no-safety-dump")

    assert run.returncode == 0, run
    assert "no checksum file" in run.stdout
    assert table_fingerprints(pg.a) == tables


def test_backups_are_private_unless_group_readable_is_asked(
    dumped: Path, controller: Controller
) -> None:
    controller.env["BACKUP_GROUP_READABLE"] = "true"

    assert controller("dump", "a", "--tier", "weekly").returncode == 0

    [weekly] = [n for n in controller.backups("a") if n.startswith("file_weekly")]
    assert dumped.stat().st_mode & 0o777 == 0o600
    assert (controller.data_dir("a") / weekly).stat().st_mode & 0o777 == 0o640
    assert dumped.stat().st_uid == int(
        subprocess.run(["id", "-u", "postgres"], capture_output=True, text=True, check=True).stdout
    )


def test_pg_restore_reading_the_archive_to_the_end_is_the_check_that_catches_truncation(
    dumped: Path,
) -> None:
    truncate(dumped, 0.8)

    to_the_end = subprocess.run(
        [str(PG_BIN / "pg_restore"), "--file=/dev/null", str(dumped)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert to_the_end.returncode != 0


def test_a_scratch_database_left_by_a_killed_restore_is_dropped_by_the_next_one(
    pg: PgServers, dumped: Path, controller: Controller
) -> None:
    leftover = ScratchNames(identifier="a", target="appdb").name(
        Purpose.RESTORE, datetime(2020, 1, 1, tzinfo=UTC)
    )
    psql(
        pg.a, f'DROP DATABASE IF EXISTS "{leftover}"; CREATE DATABASE "{leftover}";', db="postgres"
    )

    run = controller("restore", "a", dumped.name, "--no-safety-dump")

    assert run.returncode == 0, run
    assert leftover in run.stderr  # reported
    names = psql(pg.a, "SELECT datname FROM pg_database", db="postgres").split()
    assert leftover not in names


def test_an_unreadable_checksum_file_fails_its_backup_and_verify_goes_on(
    dumped: Path, controller: Controller
) -> None:
    assert controller("dump", "a", "--tier", "weekly").returncode == 0
    sidecar = dumped.with_name(f"{dumped.name}.sha256")
    sidecar.chmod(0)

    run = controller("verify", "a")

    assert run.returncode == 3, run
    assert f"FAILED {dumped.name}: cannot read" in run.stdout, run
    assert run.stdout.count(": ok file_weekly_") == 1, run


def test_group_readable_backups_are_0640_whatever_the_umask(
    pg: PgServers, controller: Controller
) -> None:
    controller.add_database("a", pg.a)
    controller.env["BACKUP_GROUP_READABLE"] = "true"
    hand_to_postgres(controller.workdir)

    dump = subprocess.run(
        ["/bin/sh", "-c", f'umask 077 && exec "{CONTROLLER}" dump a --shared'],
        cwd=controller.workdir,
        env=controller.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert dump.returncode == 0, dump.stderr
    [backup] = controller.backups("a")
    for path in (
        controller.data_dir("a") / backup,
        controller.data_dir("a") / f"{backup}.sha256",
        controller.shared_file("a"),
    ):
        assert path.stat().st_mode & 0o777 == 0o640, path


def test_a_policy_naming_a_missing_role_says_which_role_to_create_even_with_no_owner(
    pg: PgServers, dumped: Path, controller: Controller
) -> None:
    psql(
        pg.a,
        """
        DROP ROLE IF EXISTS only_on_a; CREATE ROLE only_on_a;
        CREATE TABLE guarded (id int); ALTER TABLE guarded ENABLE ROW LEVEL SECURITY;
        CREATE POLICY readers ON guarded FOR SELECT TO only_on_a USING (true);
        """,
    )
    assert controller("dump", "a", "--tier", "weekly").returncode == 0
    [weekly] = [n for n in controller.backups("a") if n.startswith("file_weekly")]
    controller.add_database("b", pg.b)
    controller.data_dir("b").mkdir(parents=True)
    for name in (weekly, f"{weekly}.sha256"):
        (controller.data_dir("b") / name).write_bytes(
            (controller.data_dir("a") / name).read_bytes()
        )
    psql(pg.a, "DROP TABLE guarded; DROP ROLE only_on_a")

    run = controller("restore", "b", weekly, "--no-owner", "--no-safety-dump")

    assert_one_line_error(run, 1)
    assert 'role "only_on_a" is named by the dump but missing' in run.stderr, run
    assert 'CREATE ROLE "only_on_a"' in run.stderr and "--no-owner" not in run.stderr, run
