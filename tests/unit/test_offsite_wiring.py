"""The composition root wires the off-site roles: OFFSITE_URL's scheme picks the bucket
under one core, and ``restore --remote`` gets the container's own ``Restore`` and
``Verify`` over the downloaded copy (no use case is rebuilt elsewhere)."""

from __future__ import annotations

from pathlib import Path

from pg_backup_manager.adapters.offsite.file.bucket import FileBucket
from pg_backup_manager.adapters.offsite.store import BucketOffsiteStore
from pg_backup_manager.entrypoints.containers import Container

from .fakes import FakeStore


def container(tmp_path: Path, url: str) -> Container:
    return Container(
        environ={"DATABASE_LIST": "users", "USERS_POSTGRES_PASSWORD": "x", "OFFSITE_URL": url},
        cwd=tmp_path,
    )


def test_a_file_url_is_the_off_site_core_over_that_directory(tmp_path: Path) -> None:
    store = container(tmp_path, f"file://{tmp_path}/nas").offsite()

    assert isinstance(store, BucketOffsiteStore) and store.bucket == FileBucket(
        root=tmp_path / "nas"
    )
    assert store.location("users") == f"file://{tmp_path}/nas/users/"


def test_restore_remote_gets_the_containers_restore_and_verify_over_another_catalog(
    tmp_path: Path,
) -> None:
    built = container(tmp_path, f"file://{tmp_path}").from_offsite()
    downloaded = FakeStore()

    restore = built.restore(catalog=downloaded)
    verify = built.verify(catalog=downloaded)

    assert restore.catalog is downloaded and verify.catalog is downloaded
