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
    writer: Callable[[PurePath], None]


def real_writer(path: PurePath) -> None:
    Path(path).write_bytes(b"PGDMP archive bytes")


@pytest.fixture(params=["fake", "local"])
def subject(request: pytest.FixtureRequest, tmp_path: Path) -> Subject:
    if request.param == "fake":
        return Subject(FakeBackupStore(), lambda _: None)
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
    def failing(path: PurePath) -> None:
        subject.writer(path)
        raise ToolError("pg_dump failed half way")

    with pytest.raises(ToolError, match="half way"):
        subject.store.write("users", OLD, failing)

    assert subject.store.backups("users") == []


def test_an_existing_backup_is_never_overwritten(subject: Subject) -> None:
    subject.store.write("users", OLD, subject.writer)

    with pytest.raises(ControllerError, match="exists already"):
        subject.store.write("users", OLD, subject.writer)


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

    def interrupted(path: PurePath) -> None:
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

    assert sorted(os.listdir(directory)) == [str(NEW)]


def test_a_symlink_with_a_backup_name_is_not_a_backup(tmp_path: Path) -> None:
    directory = tmp_path / "data" / "users"
    directory.mkdir(parents=True)
    (directory / str(OLD)).symlink_to("/etc/passwd")

    store = local_store(tmp_path)

    assert store.backups("users") == []
    with pytest.raises(BackupNotFoundError):
        store.path_of("users", OLD)
