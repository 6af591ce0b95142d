"""``basebackup`` and ``list --pitr`` through the real container, every port a fake."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import attrs
import pytest
from dependency_injector import providers

from pg_backup_manager.domain.pitr.model import CaughtUp, DamagedStream, Segment
from pg_backup_manager.entrypoints.containers import Container
from pg_backup_manager.entrypoints.main import main

from .fakes import FakeBackupVerifier, FakeBaseBackupTaker, FakePitrStore, Fakes

Run = Callable[..., tuple[int, str, str]]
ENVIRON = {
    "DATABASE_LIST": "users,orders",
    "USERS_POSTGRES_PASSWORD": "users-secret-pw",
    "USERS_WAL_ARCHIVE": "true",
}


@pytest.fixture
def store() -> FakePitrStore:
    return FakePitrStore()


@pytest.fixture
def run(store: FakePitrStore, capsys: pytest.CaptureFixture[str]) -> Iterator[Run]:
    fakes = Fakes()

    def run(*argv: str, **environ: str) -> tuple[int, str, str]:
        container = Container(environ={**ENVIRON, **environ}, cwd=Path("/srv"))
        container.drop_root.override(providers.Object(lambda user: None))
        container.history.override(fakes.run_log)
        container.notifier.override(fakes.notifier)
        pitr = container.pitr
        pitr.clock.override(fakes.clock)
        pitr.locks.override(fakes.locks)
        pitr.store.override(store)
        pitr.staging.override(store)
        pitr.taker.override(FakeBaseBackupTaker())
        pitr.verifier.override(FakeBackupVerifier())
        code = main(list(argv), container=container)
        out, err = capsys.readouterr()
        return code, out, err

    yield run


def test_basebackup_says_the_backup_its_wal_and_that_it_was_checked(run: Run) -> None:
    code, out, err = run("basebackup", "users")

    assert (code, err) == (0, "")
    assert out == (
        "basebackup users: 2024-07-04T09:00:00Z (4.0 KiB, 0s, timeline 1, "
        "WAL 0/2000028..0/2000100), checked by pg_verifybackup; "
        "new stream 2024-07-04T09:00:00Z (first)\n"
    )


def test_basebackup_of_a_service_without_wal_archive_is_exit_2_naming_the_variable(
    run: Run, store: FakePitrStore
) -> None:
    code, out, err = run("basebackup", "orders")

    assert (code, out) == (2, "")
    assert err == "error: no base backup of orders: set ORDERS_WAL_ARCHIVE=true\n"
    assert store.actions == []


def test_basebackup_all_takes_only_the_services_with_wal_archive(
    run: Run, store: FakePitrStore
) -> None:
    code, out, _ = run("basebackup", "--all")

    assert code == 0
    assert out.startswith("basebackup users: ")
    assert out.count("\n") == 1
    assert store.streams("orders") == []


def test_basebackup_all_with_no_service_archiving_is_exit_2(run: Run) -> None:
    code, _, err = run("basebackup", "--all", USERS_WAL_ARCHIVE="false")

    assert code == 2
    assert err == (
        "error: no base backup of any database of DATABASE_LIST: set <SERVICE>_WAL_ARCHIVE=true\n"
    )


def test_a_wal_archive_that_is_not_a_boolean_is_exit_2(run: Run) -> None:
    code, _, err = run("basebackup", "users", USERS_WAL_ARCHIVE="maybe")

    assert code == 2
    assert "USERS_WAL_ARCHIVE" in err
    assert err.count("\n") == 1


def test_list_pitr_shows_each_stream_its_base_backups_and_its_wal(
    run: Run, store: FakePitrStore
) -> None:
    run("basebackup", "users")
    [stream] = store.streams("users")
    store.wal[("users", stream.name)] = [_segment(2), _segment(3, partial=True)]
    proven = CaughtUp(at=datetime(2024, 7, 4, 9, 5, tzinfo=UTC), lsn=3 * 16 * 1024 * 1024 + 40)
    store.caught[("users", stream.name)] = proven

    code, out, _ = run("list", "users", "--pitr")

    assert code == 0
    window = (
        "2024-07-04T09:00:00Z .. 2024-07-04T09:05:00Z (stream 2024-07-04T09:00:00Z, "
        "ends: newest received)"
    )
    assert out.splitlines() == [
        f"users: recoverable {window}",
        "users: stream 2024-07-04T09:00:00Z (first; system 7312345678901234567, timeline 1, "
        "PostgreSQL 15, slot pg_backup_manager_users)",
        "  base 2024-07-04T09:00:00Z  finished 2024-07-04T09:00:00Z  4.0 KiB  "
        "WAL 0/2000028..0/2000100",
        "  WAL 000000010000000000000002 .. 000000010000000000000003.partial "
        "(2 segments, 32.0 MiB, the last partial)",
        f"  window {window}",
    ]


def test_list_pitr_json_is_one_document_of_schema_1(run: Run, store: FakePitrStore) -> None:
    run("basebackup", "users")

    code, out, _ = run("list", "--all", "--pitr", "--json")

    document = json.loads(out)
    assert code == 0
    assert document["schema"] == 1
    assert [entry["database"] for entry in document["pitr"]] == ["users", "orders"]
    [stream] = document["pitr"][0]["streams"]
    assert stream["why"] == "first"
    assert stream["wal"] == {
        "first": None,
        "last": None,
        "segments": 0,
        "size_bytes": 0,
        "partial": False,
    }
    [base] = stream["base_backups"]
    assert (base["start_lsn"], base["end_lsn"], base["size_bytes"]) == (
        "0/2000028",
        "0/2000100",
        4096,
    )
    assert document["pitr"][1]["streams"] == []


def test_list_pitr_with_remote_is_exit_2(run: Run) -> None:
    code, _, err = run("list", "users", "--pitr", "--remote")

    assert code == 2
    assert err.startswith("error: --pitr lists local streams only")


def test_list_pitr_of_a_service_without_streams_says_so(run: Run) -> None:
    code, out, _ = run("list", "orders", "--pitr")

    assert (code, out) == (0, "orders: no base backup or WAL yet\n")


def test_list_pitr_shows_a_damaged_stream_with_what_to_do_and_lists_the_others(
    run: Run, store: FakePitrStore
) -> None:
    run("basebackup", "users")
    store.broken["users"] = [DamagedStream(name="2024-07-05T00:00:00Z", reason="no STREAM.json")]
    store.broken["orders"] = [DamagedStream(name="2024-07-01T00:00:00Z", reason="no STREAM.json")]

    code, out, _ = run("list", "--all", "--pitr")
    _, document, _ = run("list", "--all", "--pitr", "--json")

    damaged = (
        "DAMAGED (no STREAM.json): never recovered from nor pruned; "
        "restore its STREAM.json from a copy, or move the directory away"
    )
    assert code == 0
    assert out.splitlines()[1].startswith("users: stream 2024-07-04T09:00:00Z (first;")
    assert f"users: stream 2024-07-05T00:00:00Z {damaged}" in out.splitlines()
    assert out.splitlines()[-2:] == [
        "orders: no base backup or WAL yet",
        f"orders: stream 2024-07-01T00:00:00Z {damaged}",
    ]
    users, _ = json.loads(document)["pitr"]
    assert [stream["name"] for stream in users["streams"]] == ["2024-07-04T09:00:00Z"]
    assert users["damaged"] == [
        {
            "name": "2024-07-05T00:00:00Z",
            "reason": "no STREAM.json",
            "advice": "restore its STREAM.json from a copy, or move the directory away",
        }
    ]


def test_list_pitr_counts_no_file_of_the_wrong_size_named_as_a_segment(
    run: Run, store: FakePitrStore
) -> None:
    run("basebackup", "users")
    [stream] = store.streams("users")
    junk = attrs.evolve(_segment(0x99), size=0)
    store.wal[("users", stream.name)] = [_segment(2), _segment(3, partial=True), junk]

    _, out, _ = run("list", "users", "--pitr")

    assert (
        "  WAL 000000010000000000000002 .. 000000010000000000000003.partial "
        "(2 segments, 32.0 MiB, the last partial)"
    ) in out.splitlines()
    assert "gap" not in out


def _segment(number: int, *, partial: bool = False) -> Segment:
    name = f"00000001{0:08X}{number:08X}" + (".partial" if partial else "")
    return Segment(
        name=name,
        timeline=1,
        number=number,
        size=16 * 1024 * 1024,
        received_at=datetime(2024, 7, 4, 9, 5, tzinfo=UTC),
        partial=partial,
    )
