"""The stream store and base backup staging, fake and real: a base backup counts only
with its directory and its facts, and the fake lists what the real one lists.

The real store only touches files under pytest's tmp_path.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import attrs
import pytest

from pg_backup_manager.adapters.pitr.base_staging import LocalBaseStaging
from pg_backup_manager.adapters.pitr.streams import LocalPitrStore
from pg_backup_manager.domain.errors import ControllerError
from pg_backup_manager.domain.model import Layout
from pg_backup_manager.domain.pitr.model import (
    BaseBackup,
    DamagedStream,
    Segment,
    Stream,
    StreamStart,
)
from pg_backup_manager.domain.pitr.ports import BaseStaging, PitrStore

from .fakes import FakePitrStore

AT = datetime(2026, 12, 4, 23, 10, tzinfo=UTC)
STREAM = Stream(
    name="2026-12-04T23:10:00Z",
    started_at=AT,
    system_identifier="7312345678901234567",
    timeline=1,
    wal_segment_size=16 * 1024 * 1024,
    server_major=15,
    slot="pg_backup_manager_users",
    why=StreamStart.FIRST,
)
BASE = BaseBackup(
    name="2026-12-04T23:10:00Z",
    stream=STREAM.name,
    started_at=AT,
    finished_at=AT.replace(second=9),
    start_lsn=0x2000028,
    end_lsn=0x2000100,
    timeline=1,
    server_major=15,
    size=0,
    manifest_sha256="e" * 64,
)


@attrs.frozen
class Store:
    store: PitrStore
    staging: BaseStaging
    root: Path | None = None  # the real one's data root

    def commit(self, stream: Stream, backup: BaseBackup) -> BaseBackup:
        with self.staging.begin("users", backup.name) as draft:
            if self.root is not None:
                (Path(draft.path) / "PG_VERSION").write_text("15\n")
            return draft.commit(stream, backup)


@pytest.fixture(params=["fake", "real"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    if request.param == "fake":
        fake = FakePitrStore()
        return Store(store=fake, staging=fake)
    return _real_store(tmp_path)


@pytest.fixture
def real(tmp_path: Path) -> Store:
    return _real_store(tmp_path)


def _real_store(tmp_path: Path) -> Store:
    root = tmp_path / "data"
    root.mkdir(mode=0o700)
    layout = Layout(data_root=root, shared_root=tmp_path / "shared", databases_root=tmp_path)
    return Store(
        store=LocalPitrStore(layout=layout), staging=LocalBaseStaging(layout=layout), root=root
    )


def test_a_new_stream_is_listed_with_what_it_was_opened_with(store: Store) -> None:
    opened = store.store.open_stream("users", STREAM)

    assert opened == STREAM
    assert store.store.streams("users") == [STREAM]


def test_a_stream_name_taken_moves_the_new_one_on_a_second(store: Store) -> None:
    store.store.open_stream("users", STREAM)

    second = store.store.open_stream("users", attrs.evolve(STREAM, why=StreamStart.NEW_SERVER))

    assert second.name == "2026-12-04T23:10:01Z"
    assert [s.name for s in store.store.streams("users")] == [second.name, STREAM.name]


def test_a_committed_base_backup_is_listed_with_its_size(store: Store) -> None:
    stream = store.store.open_stream("users", STREAM)

    committed = store.commit(stream, BASE)

    assert committed.size > 0
    assert store.store.base_backups("users", stream) == [committed]


def test_a_base_backup_that_failed_in_staging_is_never_listed(store: Store) -> None:
    stream = store.store.open_stream("users", STREAM)

    with pytest.raises(ControllerError), store.staging.begin("users", BASE.name):
        raise ControllerError("pg_basebackup failed (exit 1)")

    assert store.store.base_backups("users", stream) == []


def test_no_stream_is_an_empty_list(store: Store) -> None:
    assert store.store.streams("users") == []


def _stream_dir(store: Store) -> Path:
    assert store.root is not None
    return store.root / "users" / "pitr" / "streams" / STREAM.name


def test_a_base_directory_without_its_facts_or_facts_without_it_are_not_listed(
    real: Store,
) -> None:
    directory = _stream_dir(real)
    stream = real.store.open_stream("users", STREAM)
    committed = real.commit(stream, BASE)
    base = directory / "base"
    (base / "2026-12-05T00:00:00Z").mkdir()
    os.link(base / f"{committed.name}.json", base / "2026-12-06T00:00:00Z.json")
    (base / ".2026-12-07T00:00:00Z.123.partial").mkdir()

    assert real.store.base_backups("users", stream) == [committed]


def test_the_wal_directory_lists_segments_and_the_partial_one_oldest_first(real: Store) -> None:
    directory = _stream_dir(real)
    stream = real.store.open_stream("users", STREAM)
    wal = directory / "wal"
    for name in (
        "000000010000000000000003.partial",
        "000000010000000100000000",
        "000000010000000000000002",
        "000000010000000000000002.sha256",
        "00000002.history",
        ".tmp",
    ):
        (wal / name).write_bytes(b"x" * 10)

    found = real.store.segments("users", stream)

    assert [(s.name, s.number, s.partial) for s in found] == [
        ("000000010000000000000002", 2, False),
        ("000000010000000000000003.partial", 3, True),
        ("000000010000000100000000", 256, False),
    ]
    assert found[0].size == 10


def test_staging_left_by_a_dead_process_is_removed_by_the_next(real: Store) -> None:
    directory = _stream_dir(real).parent.parent
    directory.mkdir(parents=True, mode=0o700)
    dead = directory / ".2026-12-01T00:00:00Z.999999999.partial"
    (dead / "base").mkdir(parents=True)

    real.commit(real.store.open_stream("users", STREAM), BASE)

    assert not dead.exists()
    assert sorted(p.name for p in directory.iterdir()) == ["streams"]


def _plant_segment(store: Store, stream: Stream, name: str) -> None:
    if store.root is None:
        assert isinstance(store.store, FakePitrStore)
        segment = Segment(name=name, timeline=1, number=int(name[-8:], 16), size=10, received_at=AT)
        store.store.wal.setdefault(("users", stream.name), []).append(segment)
        return
    wal = _stream_dir(store) / "wal"
    (wal / name).write_bytes(b"x" * 10)
    (wal / f"{name}.sha256").write_text(f"{'0' * 64}  {name}\n")


def test_deleted_base_backups_segments_and_streams_are_no_longer_listed(store: Store) -> None:
    stream = store.store.open_stream("users", STREAM)
    old = store.commit(stream, BASE)
    kept = store.commit(stream, attrs.evolve(BASE, name="2026-12-05T23:10:00Z"))
    for name in ("000000010000000000000002", "000000010000000000000003"):
        _plant_segment(store, stream, name)
    first = store.store.segments("users", stream)[0]
    other = store.store.open_stream("users", attrs.evolve(STREAM, why=StreamStart.NEW_SERVER))

    store.store.delete_base_backup("users", stream, old)
    store.store.delete_segment("users", stream, first)
    store.store.delete_stream("users", other)

    assert store.store.base_backups("users", stream) == [kept]
    assert [s.name for s in store.store.segments("users", stream)] == ["000000010000000000000003"]
    assert store.store.streams("users") == [stream]


def test_a_deleted_segment_takes_its_checksum_and_a_deleted_base_its_facts(real: Store) -> None:
    stream = real.store.open_stream("users", STREAM)
    old = real.commit(stream, BASE)
    _plant_segment(real, stream, "000000010000000000000002")
    (segment,) = real.store.segments("users", stream)
    leftover = _stream_dir(real) / "base" / ".2026-12-01T00:00:00Z.999999999.partial"
    leftover.mkdir()

    real.store.delete_base_backup("users", stream, old)
    real.store.delete_segment("users", stream, segment)

    assert sorted(p.name for p in (_stream_dir(real) / "base").iterdir()) == []
    assert sorted(p.name for p in (_stream_dir(real) / "wal").iterdir()) == []


def _damage(store: Store, name: str) -> None:
    """Leave a stream directory ``name`` whose STREAM.json is not a stream's facts."""
    if store.root is None:
        assert isinstance(store.store, FakePitrStore)
        store.store.broken.setdefault("users", []).append(
            DamagedStream(name=name, reason="STREAM.json is not a stream's facts (no 'slot')")
        )
        return
    directory = store.root / "users" / "pitr" / "streams" / name
    (directory / "wal").mkdir(parents=True)
    (directory / "STREAM.json").write_text('{"garbage": 1}')


def test_a_damaged_stream_is_never_a_stream_nor_its_name_taken_again(store: Store) -> None:
    older = store.store.open_stream("users", STREAM)
    _damage(store, "2026-12-05T00:00:00Z")

    newer = store.store.open_stream(
        "users", attrs.evolve(STREAM, started_at=AT.replace(day=5, hour=0, minute=0))
    )

    assert [s.name for s in store.store.streams("users")] == [newer.name, older.name]
    assert newer.name == "2026-12-05T00:00:01Z"
    assert [d.name for d in store.store.damaged("users")] == ["2026-12-05T00:00:00Z"]


@pytest.mark.parametrize(
    ("facts", "reason"),
    [
        (None, "no STREAM.json"),
        ('{"garbage": 1}', "STREAM.json is not a stream's facts (no 'started_at')"),
        ("[]", "cannot read STREAM.json: not a JSON object"),
        ("{", "cannot read STREAM.json: Expecting property name"),
        ('{"started_at": 5}', "STREAM.json is not a stream's facts ("),
    ],
)
def test_a_stream_whose_facts_are_missing_or_not_a_streams_is_damaged_the_others_are_read(
    real: Store, facts: str | None, reason: str
) -> None:
    live = real.store.open_stream("users", STREAM)
    directory = _stream_dir(real).parent / "2026-12-01T00:00:00Z"
    (directory / "wal").mkdir(parents=True)
    if facts is not None:
        (directory / "STREAM.json").write_text(facts)

    [damaged] = real.store.damaged("users")

    assert real.store.streams("users") == [live]
    assert damaged.name == "2026-12-01T00:00:00Z"
    assert damaged.reason.startswith(reason)
    assert str(directory) not in damaged.reason


def test_hidden_names_files_and_other_names_are_neither_streams_nor_damaged(real: Store) -> None:
    streams = _stream_dir(real).parent
    streams.mkdir(parents=True)
    (streams / ".2026-12-01T00:00:00Z.123.partial").mkdir()
    (streams / "2026-12-02T00:00:00Z").write_text("a file")
    (streams / "lost+found").mkdir()

    assert real.store.streams("users") == []
    assert real.store.damaged("users") == []
