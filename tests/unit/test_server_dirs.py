"""The files of a service with every database of its server: its databases' directories,
its last listing, a run's globals; each checked on real files under pytest's tmp_path,
the fake beside the real one where both serve a port."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pg_backup_manager.adapters.offsite.bucket import Content
from pg_backup_manager.adapters.offsite.file.bucket import FileBucket
from pg_backup_manager.adapters.storage.local_staging import LocalStaging
from pg_backup_manager.adapters.storage.server_dirs import (
    JsonServerListings,
    LocalDatabaseDirectories,
)
from pg_backup_manager.domain.errors import ConfigurationError
from pg_backup_manager.domain.every_database import ServerListing, StoredDatabases
from pg_backup_manager.domain.model import Layout

from .fakes import FakeStore

AT = datetime(2024, 7, 4, 9, 0, tzinfo=UTC)


def layout(tmp_path: Path) -> Layout:
    return Layout(
        data_root=tmp_path / "data",
        shared_root=tmp_path / "shared",
        databases_root=tmp_path / "databases",
    )


@pytest.fixture(params=["fake", "real"])
def stored(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[StoredDatabases, Path]:
    """A store of databases' directories holding main/app and main/my db."""
    if request.param == "fake":
        fake = FakeStore()
        for identifier in ("main/app", "main/my db"):
            fake.files.setdefault(identifier, {})
        return fake, tmp_path
    real = LocalDatabaseDirectories(root=tmp_path)
    for segment in ("app", "my%20db"):
        (tmp_path / "main" / segment).mkdir(parents=True)
    return real, tmp_path


def test_the_databases_of_a_service_are_its_directories_named_by_their_segment(
    stored: tuple[StoredDatabases, Path],
) -> None:
    directories, _ = stored

    assert directories.database_names("main") == ["app", "my db"]
    assert directories.database_names("other") == []


def test_the_service_s_own_files_and_hand_made_directories_are_no_database(
    tmp_path: Path,
) -> None:
    service = tmp_path / "main"
    for name in ("pitr", "%61pp", ".hidden", "resetwal-2024-07-04T09:00:00Z", "app"):
        (service / name).mkdir(parents=True)
    (service / "history.jsonl").write_text("")
    (service / "file").write_text("")
    (service / "linked").symlink_to(service / "app")

    found = LocalDatabaseDirectories(root=tmp_path).database_names("main")

    assert found == ["app"]


def test_a_listing_is_read_back_as_recorded_and_a_bad_one_is_none(tmp_path: Path) -> None:
    listings = JsonServerListings(data_root=tmp_path)
    listing = ServerListing(names=frozenset({"app", "a/b\nc"}), listed_at=AT)

    listings.record("main", listing)
    read = listings.last("main")
    (tmp_path / "main" / "databases.json").write_text('{"databases": "app"}')

    assert read == listing
    assert stat.S_IMODE((tmp_path / "main" / "databases.json").stat().st_mode) == 0o600
    assert listings.last("main") is None
    assert listings.last("never") is None


def test_a_runs_globals_file_is_private_gone_at_the_end_and_copied_by_a_link(
    tmp_path: Path,
) -> None:
    staging = LocalStaging(layout=layout(tmp_path))
    target = tmp_path / "target.globals.sql"
    target.write_text("")

    with staging.run_file("main") as path:
        path.write_text("CREATE ROLE app;\n")
        mode = stat.S_IMODE(path.parent.stat().st_mode)
        staging.copy(path, target)

    assert mode == 0o700
    assert not path.exists() and not path.parent.exists()
    assert target.read_text() == "CREATE ROLE app;\n"


def test_a_runs_globals_left_by_a_dead_controller_are_removed_by_the_next_run(
    tmp_path: Path,
) -> None:
    service = tmp_path / "data" / "main"
    leftover = service / ".globals.sql.999999999.partial"
    leftover.mkdir(parents=True)
    (leftover / "globals.sql").write_text("password hashes")

    with LocalStaging(layout=layout(tmp_path)).run_file("main"):
        pass

    assert not leftover.exists()


def test_a_databases_off_site_directory_under_a_linked_service_is_refused(
    tmp_path: Path,
) -> None:
    root = tmp_path / "nas"
    elsewhere = tmp_path / "elsewhere"
    for directory in (root, elsewhere):
        directory.mkdir()
        directory.chmod(0o755)
    (root / "main").symlink_to(elsewhere)
    source = tmp_path / "archive"
    source.write_bytes(b"archive")

    with pytest.raises(ConfigurationError, match="symbolic link"):
        FileBucket(root=root).put(
            "main/app/file_daily_2024-07-04T09:00:00Z.dump", source, Content(sha256="a" * 64)
        )

    assert os.listdir(elsewhere) == []
