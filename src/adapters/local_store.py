"""Backups as files in local directories: the BackupCatalog, SharedCopies and
Directories ports.

Each database's backups live in ``<data root>/<identifier>``; only files whose
names parse as backup names count, each with its ``<name>.sha256``. The shared
copy is ``<shared root>/<identifier>/file.dump``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path, PurePath

import attrs

from pg_backup_manager.adapters import files
from pg_backup_manager.domain.errors import ControllerError
from pg_backup_manager.domain.model import Layout
from pg_backup_manager.domain.names import SHARED_ARCHIVE_NAME, Backup, BackupName, StoredArchive


@attrs.frozen(kw_only=True)
class LocalBackupCatalog:
    """The committed backups of each database, in its backup directory."""

    layout: Layout

    def backups(self, identifier: str) -> list[Backup]:
        """Return the committed backups of ``identifier``, newest first."""
        found = []
        for entry in files.scan(Path(self.layout.backup_dir(identifier))):
            if BackupName.is_backup(entry.name) and entry.is_file(follow_symlinks=False):
                found.append(Backup(name=BackupName.parse(entry.name), size=entry.stat().st_size))
        return sorted(found, key=lambda backup: backup.name, reverse=True)

    def archive(self, identifier: str, name: BackupName) -> StoredArchive:
        """Return backup ``name`` of ``identifier`` and its recorded SHA-256."""
        path = Path(self.layout.backup_dir(identifier)) / str(name)
        return files.stored_archive(
            path,
            f"no backup {name} of {identifier} in {path.parent}: "
            f"see 'controller list {identifier}'",
        )

    def delete(self, identifier: str, name: BackupName) -> None:
        """Delete backup ``name`` of ``identifier`` and then its checksum; missing is fine."""
        path = Path(self.layout.backup_dir(identifier)) / str(name)
        try:
            path.unlink(missing_ok=True)
            path.with_name(path.name + files.SHA256).unlink(missing_ok=True)
            files.fsync_dir(path.parent)
        except OSError as error:
            raise ControllerError(f"cannot delete {path}: {error.strerror}") from None


@attrs.frozen(kw_only=True)
class LocalSharedCopies:
    """The shared ``file.dump`` of each database, replaced atomically with its checksum."""

    layout: Layout
    file_mode: int = 0o600

    def share(self, identifier: str, name: BackupName) -> PurePath:
        """Copy backup ``name`` (and its checksum) to ``<shared>/<identifier>/file.dump``."""
        source = LocalBackupCatalog(layout=self.layout).archive(identifier, name)
        directory = files.private_dir(
            Path(self.layout.shared_root), Path(self.layout.shared_dir(identifier))
        )
        final = directory / SHARED_ARCHIVE_NAME
        files.remove_leftovers(directory)
        staging = directory / f".{SHARED_ARCHIVE_NAME}.{os.getpid()}{files.PARTIAL}"
        with files.staging_dir(staging):
            copy = staging / SHARED_ARCHIVE_NAME
            files.create_empty(copy, self.file_mode)
            shutil.copyfile(source.path, copy)
            files.fsync(copy)
            if source.checksum is None:
                final.with_name(final.name + files.SHA256).unlink(missing_ok=True)
            else:
                files.write_checksum(final, source.checksum, staging=staging, mode=self.file_mode)
            os.replace(copy, final)
            files.fsync_dir(directory)
        return final

    def archive(self, identifier: str) -> StoredArchive:
        """Return the shared ``file.dump`` of ``identifier`` and its recorded SHA-256."""
        path = Path(self.layout.shared_dir(identifier)) / SHARED_ARCHIVE_NAME
        return files.stored_archive(
            path,
            f"no shared archive {path}: create one with 'controller dump {identifier} --shared'",
        )


@attrs.frozen(kw_only=True)
class LocalDirectories:
    """Creates the backup directories."""

    layout: Layout

    def prepare(self, identifiers: Iterable[str], *, shared: bool) -> None:
        """Create the backup directories (and the shared ones if ``shared``)."""
        for identifier in identifiers:
            files.make_dir(Path(self.layout.backup_dir(identifier)))
            if shared:
                files.make_dir(Path(self.layout.shared_dir(identifier)))
