"""One set of checks run against the fake store and the real one (catalog, staging and
shared copies), so the fake stays honest.

The real store only touches files under pytest's tmp_path.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from pathlib import Path

import attrs
import pytest

from pg_backup_manager.adapters.storage.local_staging import LocalStaging
from pg_backup_manager.adapters.storage.local_store import LocalBackupCatalog, LocalSharedCopies
from pg_backup_manager.domain.backups.ports import SharedCopies, Staging
from pg_backup_manager.domain.errors import BackupNotFoundError, ControllerError, ToolError
from pg_backup_manager.domain.model import Layout
from pg_backup_manager.domain.names import BackupName
from pg_backup_manager.domain.ports import BackupCatalog

from .fakes import FakeStore

OLD = BackupName.parse("file_daily_2024-07-03T09:00:00Z.dump")
NEW = BackupName.parse("file_weekly_2024-07-06T09:00:00Z.dump")
SHA = "c" * 64
GLOBALS_SHA = "d" * 64


@attrs.frozen
class Store:
    """The three ports of one store, fake or real."""

    catalog: BackupCatalog
    staging: Staging
    shared: SharedCopies

    def write(
        self,
        identifier: str,
        name: BackupName,
        *,
        fail: BaseException | None = None,
        left_out: tuple[str, ...] = (),
    ) -> None:
        with self.staging.begin(identifier, name) as draft:
            if isinstance(self.catalog, LocalBackupCatalog):
                Path(draft.path).write_bytes(b"PGDMP archive bytes")
                Path(draft.globals_path).write_text("CREATE ROLE app;\n")
            if fail is not None:
                raise fail
            draft.commit(SHA, GLOBALS_SHA, left_out=left_out)


def layout(tmp_path: Path) -> Layout:
    return Layout(
        data_root=tmp_path / "data",
        shared_root=tmp_path / "shared",
        databases_root=tmp_path / "databases",
    )


def local_store(tmp_path: Path, file_mode: int = 0o600) -> Store:
    where = layout(tmp_path)
    return Store(
        catalog=LocalBackupCatalog(layout=where),
        staging=LocalStaging(layout=where, file_mode=file_mode),
        shared=LocalSharedCopies(layout=where, file_mode=file_mode),
    )


@pytest.fixture(params=["fake", "local"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    if request.param == "fake":
        fake = FakeStore()
        return Store(catalog=fake, staging=fake, shared=fake.shared_copies)
    return local_store(tmp_path)


def test_written_backups_are_listed_newest_first(store: Store) -> None:
    store.write("users", OLD)
    store.write("users", NEW)

    assert [b.name for b in store.catalog.backups("users")] == [NEW, OLD]
    assert store.catalog.backups("orders") == []


def test_names_are_those_of_the_backups_newest_first(store: Store) -> None:
    store.write("users", OLD)
    store.write("users", NEW)

    assert store.catalog.backup_names("users") == [NEW, OLD]
    assert store.catalog.backup_names("orders") == []


def test_a_draft_that_fails_leaves_no_backup_and_its_error_goes_on(store: Store) -> None:
    with pytest.raises(ToolError, match="half way"):
        store.write("users", OLD, fail=ToolError("pg_dump failed half way"))

    assert store.catalog.backups("users") == []


def test_a_draft_never_committed_leaves_no_backup(store: Store) -> None:
    with store.staging.begin("users", OLD):
        pass

    assert store.catalog.backups("users") == []


def test_an_existing_backup_is_never_overwritten(store: Store) -> None:
    store.write("users", OLD)

    with pytest.raises(ControllerError, match="exists already"):
        store.write("users", OLD)


def test_the_checksum_a_draft_is_committed_with_is_recorded(store: Store) -> None:
    store.write("users", OLD)

    assert store.catalog.archive("users", OLD).checksum == SHA


def test_a_shared_copy_has_the_checksum_of_its_backup(store: Store) -> None:
    store.write("users", OLD)

    store.shared.share("users", OLD)

    assert store.shared.archive("users").checksum == SHA


def test_a_backup_keeps_the_globals_it_was_committed_with(store: Store) -> None:
    store.write("users", OLD)

    [backup] = store.catalog.backups("users")
    assert backup.has_globals
    assert store.catalog.globals("users", OLD).checksum == GLOBALS_SHA
    assert (
        store.catalog.globals("users", OLD).path.name
        == "file_daily_2024-07-03T09:00:00Z.globals.sql"
    )


def test_a_shared_copy_has_the_globals_of_its_backup(store: Store) -> None:
    store.write("users", OLD)

    store.shared.share("users", OLD)

    assert store.shared.globals("users").checksum == GLOBALS_SHA
    assert store.shared.globals("users").path.name == "file.globals.sql"


def test_a_deleted_backup_takes_its_globals_with_it(store: Store) -> None:
    store.write("users", OLD)

    store.catalog.delete("users", OLD)

    with pytest.raises(BackupNotFoundError):
        store.catalog.globals("users", OLD)


def test_a_missing_backup_is_not_found(store: Store) -> None:
    with pytest.raises(BackupNotFoundError):
        store.catalog.archive("users", OLD)
    with pytest.raises(BackupNotFoundError):
        store.shared.share("users", OLD)


def test_a_deleted_backup_is_gone_and_deleting_twice_is_fine(store: Store) -> None:
    store.write("users", OLD)

    store.catalog.delete("users", OLD)
    store.catalog.delete("users", OLD)

    assert store.catalog.backups("users") == []


def test_a_shared_backup_is_the_shared_archive(store: Store) -> None:
    with pytest.raises(BackupNotFoundError):
        store.shared.archive("users")
    store.write("users", OLD)

    copy = store.shared.share("users", OLD)

    assert store.shared.archive("users").path == copy
    assert copy.name == "file.dump"


# The real store only, for what a fake has no files to show.


def test_files_that_are_not_backups_are_never_listed(tmp_path: Path) -> None:
    directory = tmp_path / "data" / "users"
    directory.mkdir(parents=True)
    for name in ("notes.txt", f".{OLD}.123.partial", f"{OLD}.sha256", "file.dump"):
        (directory / name).write_text("x")
    (directory / str(NEW)).mkdir()

    assert local_store(tmp_path).catalog.backups("users") == []
    assert local_store(tmp_path).catalog.backup_names("users") == []


def test_backups_are_private_to_their_owner_unless_group_readable_is_asked(
    tmp_path: Path,
) -> None:
    private, readable = local_store(tmp_path), local_store(tmp_path, file_mode=0o640)

    private.write("users", OLD)
    readable.write("users", NEW)

    for name, mode in ((OLD, 0o600), (NEW, 0o640)):
        path = Path(private.catalog.archive("users", name).path)
        assert stat.S_IMODE(path.stat().st_mode) == mode
        assert stat.S_IMODE(path.with_name(f"{name}.sha256").stat().st_mode) == mode


def test_the_tools_write_inside_a_staging_directory_only_this_user_can_enter(
    tmp_path: Path,
) -> None:
    with local_store(tmp_path).staging.begin("users", OLD) as draft:
        staging = Path(draft.path).parent

        assert staging.parent == tmp_path / "data" / "users"
        assert stat.S_IMODE(staging.stat().st_mode) == 0o700

    assert not staging.exists()


def test_an_interrupted_draft_removes_its_staging_directory(tmp_path: Path) -> None:
    with pytest.raises(KeyboardInterrupt):
        local_store(tmp_path).write("users", OLD, fail=KeyboardInterrupt())

    assert os.listdir(tmp_path / "data" / "users") == []


def test_the_staging_of_a_dead_process_is_cleared_by_the_next_write(tmp_path: Path) -> None:
    directory = tmp_path / "data" / "users"
    (directory / f".{OLD}.999999999.partial").mkdir(parents=True)
    (directory / f".{OLD}.999999999.partial" / str(OLD)).write_text("half an archive")
    (directory / f".{OLD}.sha256.999999999.partial").write_text("an old-style leftover")

    local_store(tmp_path).write("users", NEW)

    assert sorted(os.listdir(directory)) == [
        str(NEW),
        f"{NEW}.sha256",
        NEW.globals_name,
        f"{NEW.globals_name}.sha256",
    ]


def test_a_symlink_with_a_backup_name_is_not_a_backup(tmp_path: Path) -> None:
    directory = tmp_path / "data" / "users"
    directory.mkdir(parents=True)
    (directory / str(OLD)).symlink_to("/etc/passwd")

    store = local_store(tmp_path)

    assert store.catalog.backups("users") == []
    with pytest.raises(BackupNotFoundError):
        store.catalog.archive("users", OLD)


def test_the_checksum_file_is_what_sha256sum_reads(tmp_path: Path) -> None:
    local_store(tmp_path).write("users", OLD)

    sidecar = tmp_path / "data" / "users" / f"{OLD}.sha256"
    assert sidecar.read_text() == f"{SHA}  {OLD}\n"


def test_deleting_a_backup_deletes_its_checksum(tmp_path: Path) -> None:
    store = local_store(tmp_path)
    store.write("users", OLD)

    store.catalog.delete("users", OLD)

    assert os.listdir(tmp_path / "data" / "users") == []


def test_a_backup_made_before_globals_were_saved_has_none(tmp_path: Path) -> None:
    store = local_store(tmp_path)
    directory = tmp_path / "data" / "users"
    directory.mkdir(parents=True)
    (directory / str(OLD)).write_bytes(b"PGDMP old archive")

    [backup] = store.catalog.backups("users")

    assert not backup.has_globals
    with pytest.raises(BackupNotFoundError, match="made before globals were saved"):
        store.catalog.globals("users", OLD)


def test_sharing_a_backup_without_globals_removes_the_shared_globals_of_an_older_one(
    tmp_path: Path,
) -> None:
    store = local_store(tmp_path)
    store.write("users", NEW)
    store.shared.share("users", NEW)
    (tmp_path / "data" / "users" / str(OLD)).write_bytes(b"PGDMP old archive")

    store.shared.share("users", OLD)

    assert sorted(os.listdir(tmp_path / "shared" / "users")) == ["file.dump"]


def test_files_of_others_that_look_temporary_are_left_alone(tmp_path: Path) -> None:
    directory = tmp_path / "data" / "users"
    directory.mkdir(parents=True)
    (directory / ".notes.999999999.partial").write_text("mine")

    local_store(tmp_path).write("users", NEW)

    assert (directory / ".notes.999999999.partial").exists()


def test_a_backup_directory_that_is_a_symlink_out_of_the_root_is_refused(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "data" / "users").symlink_to(tmp_path / "elsewhere")

    with pytest.raises(ControllerError, match="outside"):
        local_store(tmp_path).write("users", OLD)


@pytest.mark.parametrize("mode", [0o777, 0o775, 0o757])
def test_a_backup_directory_others_can_write_is_refused_unless_sticky_and_ours(
    tmp_path: Path, mode: int
) -> None:
    directory = tmp_path / "data" / "users"
    directory.mkdir(parents=True)
    directory.chmod(mode)

    with pytest.raises(ControllerError, match="can be written by other users"):
        local_store(tmp_path).write("users", OLD)
    directory.chmod(mode | stat.S_ISVTX)
    local_store(tmp_path).write("users", OLD)


@pytest.mark.parametrize("theirs", [[], [".sha256"]], ids=["archive", "archive-and-checksum"])
def test_an_archive_that_cannot_be_committed_leaves_no_globals_behind(
    tmp_path: Path, theirs: list[str]
) -> None:
    store = local_store(tmp_path)
    directory = tmp_path / "data" / "users"

    with (
        pytest.raises(ControllerError, match="exists already"),
        store.staging.begin("users", OLD) as draft,
    ):
        Path(draft.path).write_bytes(b"PGDMP archive bytes")
        Path(draft.globals_path).write_text("CREATE ROLE app;\n")
        # Another writer takes the name, checksum and all, between dump and commit.
        (directory / str(OLD)).write_bytes(b"someone else's")
        for suffix in theirs:
            (directory / f"{OLD}{suffix}").write_text("theirs\n")
        draft.commit(SHA, GLOBALS_SHA)

    assert sorted(os.listdir(directory)) == [f"{OLD}{suffix}" for suffix in ["", *theirs]]
    assert (directory / str(OLD)).read_bytes() == b"someone else's"
    for suffix in theirs:
        assert (directory / f"{OLD}{suffix}").read_text() == "theirs\n"


def test_a_partial_backup_is_listed_with_what_it_left_out_until_it_is_deleted(
    store: Store,
) -> None:
    left_out = ("--exclude-table=audit", '--exclude-schema="Tmp, old"')
    store.write("users", OLD, left_out=left_out)
    store.write("users", NEW)

    new, old = store.catalog.backups("users")

    assert (old.partial, old.left_out) == (True, left_out)
    assert (new.partial, new.left_out) == (False, ())
    store.catalog.delete("users", OLD)
    store.write("users", OLD)
    assert [(b.partial, b.left_out) for b in store.catalog.backups("users")] == [(False, ())] * 2


def test_a_partial_backups_note_goes_with_it_and_an_unreadable_one_still_says_partial(
    tmp_path: Path,
) -> None:
    store = local_store(tmp_path)
    store.write("users", OLD, left_out=("--no-blobs",))
    store.write("users", NEW, left_out=("--no-blobs",))
    directory = tmp_path / "data" / "users"
    (directory / "file_weekly_2024-07-06T09:00:00Z.left-out.json").write_text("{not json")

    store.catalog.delete("users", OLD)

    [backup] = store.catalog.backups("users")
    assert (backup.partial, backup.left_out) == (True, ())
    assert not (directory / "file_daily_2024-07-03T09:00:00Z.left-out.json").exists()


def test_a_partial_backups_note_is_found_with_a_sha256_and_a_whole_one_has_none(
    store: Store,
) -> None:
    store.write("users", OLD, left_out=("--no-blobs",))
    store.write("users", NEW)

    note = store.catalog.note("users", OLD)

    assert note is not None and note.path.name == "file_daily_2024-07-03T09:00:00Z.left-out.json"
    assert note.checksum is not None and re.fullmatch("[0-9a-f]{64}", note.checksum)
    assert store.catalog.note("users", NEW) is None


def test_a_shared_copy_carries_the_note_of_a_partial_backup_and_loses_it_for_a_whole_one(
    store: Store,
) -> None:
    store.write("users", OLD, left_out=("--exclude-table=audit",))
    store.write("users", NEW)
    nothing_shared = store.shared.left_out("users")

    store.shared.share("users", OLD)
    partial = store.shared.left_out("users")
    store.shared.share("users", NEW)

    assert nothing_shared is None
    assert partial == ("--exclude-table=audit",)
    assert store.shared.left_out("users") is None


def test_the_shared_note_is_beside_file_dump_and_says_what_its_note_says(tmp_path: Path) -> None:
    store = local_store(tmp_path)
    store.write("users", OLD, left_out=("--no-blobs",))

    store.shared.share("users", OLD)

    local = tmp_path / "data" / "users" / "file_daily_2024-07-03T09:00:00Z.left-out.json"
    shared = tmp_path / "shared" / "users" / "file.left-out.json"
    assert shared.read_bytes() == local.read_bytes()
    assert stat.S_IMODE(shared.stat().st_mode) == 0o600
    assert note_sha256(store, OLD) == hashlib.sha256(local.read_bytes()).hexdigest()


def note_sha256(store: Store, name: BackupName) -> str | None:
    note = store.catalog.note("users", name)
    return None if note is None else note.checksum
