"""Off-site backups downloaded for one restore or verify: the OffsiteDownloads port.

The files go to ``.<name>.<pid>.partial/`` in the database's backup directory,
a directory only this user can enter (so no one can swap the files the tools
read), on the backups' own file system; it is removed at the end whatever
happens, and by the next writer if this process dies.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path, PurePath

import attrs

from pg_backup_manager.adapters.storage import files
from pg_backup_manager.adapters.storage import left_out as notes
from pg_backup_manager.domain import database_names
from pg_backup_manager.domain.model import Layout
from pg_backup_manager.domain.names import Backup, BackupName, StoredArchive
from pg_backup_manager.domain.offsite.ports import OffsiteDownloader


@attrs.frozen(kw_only=True)
class DownloadedCatalog:
    """The one backup downloaded into ``directory``, as a BackupReader (to read only):
    its files named, for people, as the copies at ``location`` they came from."""

    directory: Path
    name: BackupName
    location: str = ""  # where the store keeps the database's copies (s3://b/p/users/)

    def backups(self, identifier: str) -> list[Backup]:
        """Return the downloaded backup: partial when its note came with it."""
        path = self.directory / str(self.name)
        has_globals = (self.directory / self.name.globals_name).is_file()
        note = self.directory / self.name.note_name
        partial = note.is_file()
        return [
            Backup(
                name=self.name,
                size=path.stat().st_size,
                has_globals=has_globals,
                partial=partial,
                left_out=notes.read(note) if partial else (),
            )
        ]

    def backup_names(self, identifier: str) -> list[BackupName]:
        """Return the downloaded backup's name."""
        return [self.name]

    def archive(self, identifier: str, name: BackupName) -> StoredArchive:
        """Return the downloaded archive and the SHA-256 uploaded with it."""
        found = files.stored_archive(
            self.directory / str(name), f"no off-site copy {name} of {identifier} was fetched"
        )
        return self._off_site(found, identifier, str(name))

    def note(self, identifier: str, name: BackupName) -> StoredArchive | None:
        """Return the downloaded note of what the copy left out (checked against its
        checksum object as it was fetched); None: the copy is whole."""
        return notes.stored(self.directory / name.note_name)

    def globals(self, identifier: str, name: BackupName) -> StoredArchive:
        """Return the downloaded globals and the SHA-256 uploaded with them."""
        found = files.stored_archive(
            self.directory / name.globals_name,
            f"the off-site copy {name} of {identifier} has no globals file "
            f"({name.globals_name}): create the roles by hand, or restore with --no-owner",
        )
        return self._off_site(found, identifier, name.globals_name)

    def _off_site(self, found: StoredArchive, identifier: str, file_name: str) -> StoredArchive:
        """Return ``found`` named as the off-site copy it came from."""
        return attrs.evolve(
            found,
            origin=f"the off-site copy {self.location}{file_name}",
            listed_by=f"controller list {identifier} --remote",
        )


@attrs.frozen(kw_only=True)
class LocalDownloads:
    """Downloads off-site backups beside each database's local backups."""

    layout: Layout
    store: OffsiteDownloader

    @contextlib.contextmanager
    def fetch(self, identifier: str, name: BackupName) -> Iterator[DownloadedCatalog]:
        """Download backup ``name``; yield a catalog of it; remove it all at the end. A
        database of a server with no directory here downloads into its service's: an
        off-site command never makes a database's directory."""
        directory = Path(self.layout.backup_dir(identifier))
        service, database = database_names.split(identifier)
        if database is not None and not os.path.lexists(directory):
            directory = Path(self.layout.backup_dir(service))
        directory = files.private_dir(Path(self.layout.data_root), directory)
        files.remove_leftovers(directory)
        with files.staging_dir(directory / f".{name}.{os.getpid()}{files.PARTIAL}") as staging:
            self.store.download(identifier, name, PurePath(staging))
            yield DownloadedCatalog(
                directory=staging, name=name, location=self.store.location(identifier)
            )
