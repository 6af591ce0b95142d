"""restore --remote and verify --remote: the off-site copy is downloaded, checked against
the SHA-256 uploaded with it, then restored or verified as a local backup; the download
is removed whatever happens."""

from __future__ import annotations

import pytest

from pg_backup_manager.domain.errors import BackupNotFoundError, IntegrityError
from pg_backup_manager.domain.names import BackupName
from pg_backup_manager.domain.offsite.from_offsite import FromOffsite
from pg_backup_manager.domain.ports import BackupReader
from pg_backup_manager.domain.restore.restoring import Restore
from pg_backup_manager.domain.restore.verifying import Verify

from .fakes import Fakes, database
from .test_offsite import NEW, OLD, with_local_backups

USERS = database("users")


def offsite_only(fakes: Fakes, *names: str) -> None:
    """Backups that were uploaded, then lost locally (a new host)."""
    with_local_backups(fakes, "users", *names)
    fakes.sync()([USERS])
    for name in names:
        fakes.store.delete("users", BackupName.parse(name))
    fakes.store.actions.clear()


def test_restore_remote_restores_the_downloaded_copy_then_removes_it() -> None:
    fakes = Fakes()
    offsite_only(fakes, OLD)

    report = fakes.from_offsite().restore_backup(USERS, OLD)

    [(_, _, archive, _)] = fakes.restorer.restored
    assert ".fetched" in str(archive) and archive.name == OLD
    assert report.checksum_verified
    assert fakes.downloads.actions == [("fetch", "users", OLD), ("remove", "users", OLD)]
    assert fakes.store.names("users") == []  # nothing local but the safety dump, if any


def test_a_copy_that_fails_its_uploaded_checksum_changes_nothing_and_is_removed() -> None:
    fakes = Fakes()
    offsite_only(fakes, OLD)
    fakes.server.databases.add("postgres")
    fakes.checker.hashes[OLD] = "b" * 64  # what was downloaded is not what was uploaded

    with pytest.raises(IntegrityError):
        fakes.from_offsite().restore_backup(USERS, OLD)

    assert fakes.restorer.restored == []
    assert fakes.store.names("users") == []  # not even a safety dump
    assert fakes.downloads.actions[-1] == ("remove", "users", OLD)


def test_restore_remote_with_globals_reads_the_downloaded_globals() -> None:
    fakes = Fakes()
    offsite_only(fakes, OLD)

    fakes.from_offsite().restore_backup(USERS, OLD, with_globals=True)

    [path] = fakes.globals_reader.read_paths
    assert ".fetched" in str(path)


def test_restore_remote_of_a_copy_the_store_lacks_is_not_found() -> None:
    fakes = Fakes()

    with pytest.raises(BackupNotFoundError):
        fakes.from_offsite().restore_backup(USERS, OLD)

    assert fakes.restorer.restored == []


def test_verify_remote_checks_each_copy_newest_first_one_download_at_a_time() -> None:
    fakes = Fakes()
    offsite_only(fakes, OLD, NEW)
    fakes.checker.hashes[OLD] = "b" * 64

    reports = fakes.from_offsite().verify_backups(USERS)

    assert [(str(r.checks[0].name), r.checks[0].passed) for r in reports] == [
        (NEW, True),
        (OLD, False),
    ]
    assert fakes.downloads.actions == [
        ("fetch", "users", NEW),
        ("remove", "users", NEW),
        ("fetch", "users", OLD),
        ("remove", "users", OLD),
    ]


def test_restore_and_verify_remote_are_the_use_cases_the_root_builds_over_the_download() -> None:
    fakes = Fakes()
    offsite_only(fakes, OLD)
    catalogs: list[BackupReader] = []

    def restore(*, catalog: BackupReader) -> Restore:
        catalogs.append(catalog)
        return fakes.restore(catalog=catalog)

    def verify(*, catalog: BackupReader) -> Verify:
        catalogs.append(catalog)
        return fakes.verify(catalog=catalog)

    from_offsite = FromOffsite(
        offsite=fakes.offsite, downloads=fakes.downloads, restore=restore, verify=verify
    )
    from_offsite.restore_backup(USERS, OLD)
    from_offsite.verify_backups(USERS)

    assert len(catalogs) == 2 and fakes.store not in catalogs
    assert [catalog.backup_names("users") for catalog in catalogs] == [[BackupName.parse(OLD)]] * 2
