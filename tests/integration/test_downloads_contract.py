"""One set of checks run against the fake downloads (over the fake off-site store) and
the real ones (``LocalDownloads`` over the off-site store on S3, SeaweedFS, and on a
directory): a copy uploaded, then fetched, reads back with the checksums it was
uploaded with, so the fake stays honest.

Written against what a fetch gives (a catalog of the one copy), not against how
downloads are built: only the ``downloads`` fixture knows the classes.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pg_backup_manager.adapters.offsite.downloads import LocalDownloads
from pg_backup_manager.domain.errors import BackupNotFoundError
from pg_backup_manager.domain.model import Layout
from pg_backup_manager.domain.names import BackupName, StoredArchive

from ..unit.fakes import FakeDownloads, FakeOffsiteStore
from .test_offsite_contract import BACKENDS, new_store

pytestmark = pytest.mark.integration

NAME = BackupName.parse("file_daily_2024-07-03T09:00:00Z.dump")
ARCHIVE = b"an archive"
GLOBALS = b"CREATE ROLE app;\n"

Upload = Callable[..., None]


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    return new_store(request.param, request, tmp_path_factory)


@pytest.fixture
def downloads(store: Any, tmp_path: Path) -> Any:
    if isinstance(store, FakeOffsiteStore):
        return FakeDownloads(offsite=store)
    root = tmp_path / "backups"
    root.mkdir(mode=0o700)
    return LocalDownloads(
        layout=Layout(data_root=root, shared_root=tmp_path / "shared", databases_root=tmp_path),
        store=store,
    )


@pytest.fixture
def upload(store: Any, tmp_path: Path) -> Upload:
    def upload(name: BackupName, *, with_globals: bool) -> None:
        archive = tmp_path / f"{uuid.uuid4().hex}.dump"
        archive.write_bytes(ARCHIVE)
        globals_file = tmp_path / f"{uuid.uuid4().hex}.globals.sql"
        globals_file.write_bytes(GLOBALS)
        store.upload(
            "users",
            name,
            archive=StoredArchive(path=archive, checksum=sha256(ARCHIVE)),
            globals=StoredArchive(path=globals_file, checksum=sha256(GLOBALS))
            if with_globals
            else None,
        )

    return upload


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_a_fetched_copy_is_the_one_backup_of_its_catalog_with_the_checksums_it_was_sent_with(
    downloads: Any, upload: Upload
) -> None:
    upload(NAME, with_globals=True)

    with downloads.fetch("users", NAME) as catalog:
        names = catalog.backup_names("users")
        [backup] = catalog.backups("users")
        archive = catalog.archive("users", NAME)
        globals_ = catalog.globals("users", NAME)

    assert names == [NAME]
    assert (backup.name, backup.has_globals) == (NAME, True)
    assert archive.checksum == sha256(ARCHIVE)
    assert globals_.checksum == sha256(GLOBALS)


def test_a_fetched_copy_without_globals_has_none_to_give(downloads: Any, upload: Upload) -> None:
    upload(NAME, with_globals=False)

    with downloads.fetch("users", NAME) as catalog:
        [backup] = catalog.backups("users")
        with pytest.raises(BackupNotFoundError):
            catalog.globals("users", NAME)

    assert not backup.has_globals


def test_fetching_a_copy_that_is_not_there_is_backup_not_found(
    downloads: Any, upload: Upload
) -> None:
    upload(NAME, with_globals=True)
    other = BackupName.parse("file_weekly_2024-07-06T09:00:00Z.dump")

    with pytest.raises(BackupNotFoundError), downloads.fetch("users", other):
        pass
