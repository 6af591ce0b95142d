"""One set of checks run against the fake store and the real one, so the fake stays honest.

The real store only touches files under pytest's tmp_path.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path, PurePath

import attrs
import pytest

from pg_backup_manager.adapters.filesystem import LocalBackupStore
from pg_backup_manager.domain.errors import BackupNotFoundError, ControllerError, ToolError
from pg_backup_manager.domain.model import BackupName, Layout
from pg_backup_manager.domain.ports import BackupStore

from .fakes import FakeBackupStore

OLD = BackupName.parse("file_daily_2024-07-03T09:00:00Z.dump")
NEW = BackupName.parse("file_weekly_2024-07-06T09:00:00Z.dump")


@attrs.frozen
class Subject:
    store: BackupStore
    writer: Callable[[PurePath], str]


SHA = "c" * 64


def real_writer(path: PurePath) -> str:
    Path(path).write_bytes(b"PGDMP archive bytes")
    return SHA


@pytest.fixture(params=["fake", "local"])
def subject(request: pytest.FixtureRequest, tmp_path: Path) -> Subject:
    if request.param == "fake":
        return Subject(FakeBackupStore(), lambda _: SHA)
    layout = Layout(
        data_root=tmp_path / "data",
        shared_root=tmp_path / "shared",
        databases_root=tmp_path / "databases",
    )
    return Subject(LocalBackupStore(layout=layout), real_writer)


def test_written_backups_are_listed_newest_first(subject: Subject) -> None:
    subject.store.write("users", OLD, subject.writer)
    subject.store.write("users", NEW, subject.writer)

    assert [b.name for b in subject.store.backups("users")] == [NEW, OLD]
    assert subject.store.backups("orders") == []


def test_a_failing_writer_leaves_no_backup_and_its_error_goes_on(subject: Subject) -> None:
    def failing(path: PurePath) -> str:
        subject.writer(path)
        raise ToolError("pg_dump failed half way")

    with pytest.raises(ToolError, match="half way"):
        subject.store.write("users", OLD, failing)

    assert subject.store.backups("users") == []


def test_an_existing_backup_is_never_overwritten(subject: Subject) -> None:
    subject.store.write("users", OLD, subject.writer)

    with pytest.raises(ControllerError, match="exists already"):
        subject.store.write("users", OLD, subject.writer)


def test_the_checksum_a_writer_returns_is_recorded(subject: Subject) -> None:
    subject.store.write("users", OLD, subject.writer)

    assert subject.store.checksum_of("users", OLD) == SHA


def test_a_shared_copy_has_the_checksum_of_its_backup(subject: Subject) -> None:
    subject.store.write("users", OLD, subject.writer)

    subject.store.share("users", OLD)

    assert subject.store.shared_checksum("users") == SHA


def test_a_missing_backup_has_no_path(subject: Subject) -> None:
    with pytest.raises(BackupNotFoundError):
        subject.store.path_of("users", OLD)


def test_a_deleted_backup_is_gone_and_deleting_twice_is_fine(subject: Subject) -> None:
    subject.store.write("users", OLD, subject.writer)

    subject.store.delete("users", OLD)
    subject.store.delete("users", OLD)

    assert subject.store.backups("users") == []


def test_a_shared_backup_is_the_shared_archive(subject: Subject) -> None:
    with pytest.raises(BackupNotFoundError):
        subject.store.shared_archive("users")
    subject.store.write("users", OLD, subject.writer)

    copy = subject.store.share("users", OLD)

    assert subject.store.shared_archive("users") == copy
    assert copy.name == "file.dump"


# The real store only, for what a fake has no files to show.


def local_store(tmp_path: Path) -> LocalBackupStore:
    return LocalBackupStore(
        layout=Layout(
            data_root=tmp_path / "data",
            shared_root=tmp_path / "shared",
            databases_root=tmp_path / "databases",
        )
    )


def test_files_that_are_not_backups_are_never_listed(tmp_path: Path) -> None:
    directory = tmp_path / "data" / "users"
    directory.mkdir(parents=True)
    for name in ("notes.txt", f".{OLD}.123.partial", f"{OLD}.sha256", "file.dump"):
        (directory / name).write_text("x")
    (directory / str(NEW)).mkdir()

    assert local_store(tmp_path).backups("users") == []


def test_backups_are_private_to_their_owner(tmp_path: Path) -> None:
    store = local_store(tmp_path)

    store.write("users", OLD, real_writer)

    path = Path(store.path_of("users", OLD))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_an_interrupted_write_removes_its_temporary_file(tmp_path: Path) -> None:
    store = local_store(tmp_path)

    def interrupted(path: PurePath) -> str:
        real_writer(path)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        store.write("users", OLD, interrupted)

    assert os.listdir(tmp_path / "data" / "users") == []


def test_the_temporary_file_of_a_dead_process_is_cleared_by_the_next_write(
    tmp_path: Path,
) -> None:
    directory = tmp_path / "data" / "users"
    directory.mkdir(parents=True)
    abandoned = directory / f".{OLD}.999999999.partial"
    abandoned.write_text("half an archive")

    local_store(tmp_path).write("users", NEW, real_writer)

    assert sorted(os.listdir(directory)) == [str(NEW), f"{NEW}.sha256"]


def test_a_symlink_with_a_backup_name_is_not_a_backup(tmp_path: Path) -> None:
    directory = tmp_path / "data" / "users"
    directory.mkdir(parents=True)
    (directory / str(OLD)).symlink_to("/etc/passwd")

    store = local_store(tmp_path)

    assert store.backups("users") == []
    with pytest.raises(BackupNotFoundError):
        store.path_of("users", OLD)


def test_the_checksum_file_is_what_sha256sum_reads(tmp_path: Path) -> None:
    store = local_store(tmp_path)

    store.write("users", OLD, real_writer)

    sidecar = tmp_path / "data" / "users" / f"{OLD}.sha256"
    assert sidecar.read_text() == f"{SHA}  {OLD}\n"


def test_deleting_a_backup_deletes_its_checksum(tmp_path: Path) -> None:
    store = local_store(tmp_path)
    store.write("users", OLD, real_writer)

    store.delete("users", OLD)

    assert os.listdir(tmp_path / "data" / "users") == []


def test_files_of_others_that_look_temporary_are_left_alone(tmp_path: Path) -> None:
    directory = tmp_path / "data" / "users"
    directory.mkdir(parents=True)
    (directory / ".notes.999999999.partial").write_text("mine")

    local_store(tmp_path).write("users", NEW, real_writer)

    assert (directory / ".notes.999999999.partial").exists()


def test_group_readable_backups_when_asked(tmp_path: Path) -> None:
    store = attrs.evolve(local_store(tmp_path), file_mode=0o640)

    store.write("users", OLD, real_writer)

    assert stat.S_IMODE(Path(store.path_of("users", OLD)).stat().st_mode) == 0o640


def test_a_backup_directory_that_is_a_symlink_out_of_the_root_is_refused(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "data" / "users").symlink_to(tmp_path / "elsewhere")

    with pytest.raises(ControllerError, match="outside"):
        local_store(tmp_path).write("users", OLD, real_writer)
