"""``list``: the backups of each database, newest first (with ``--json``, each with the
SHA-256 its checksum file records)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePath

import attrs

from pg_backup_manager.domain.errors import ControllerError
from pg_backup_manager.domain.model import Database, Layout
from pg_backup_manager.domain.names import Backup, BackupName
from pg_backup_manager.domain.ports import BackupReader


@attrs.frozen(kw_only=True)
class Listing:
    """The backups of one database, newest first, and the directory they are in."""

    database: Database
    backups: Sequence[Backup]
    location: PurePath


@attrs.frozen(kw_only=True)
class ListReport:
    """What ``list`` found, database by database, in the order asked."""

    listings: tuple[Listing, ...]

    @property
    def exit_code(self) -> int:
        """Return 0: a catalog that cannot be read raised instead."""
        return 0


@attrs.frozen(kw_only=True)
class ListBackups:
    """Lists the committed backups of databases."""

    catalog: BackupReader
    layout: Layout

    def __call__(self, databases: Sequence[Database], *, checksums: bool = False) -> ListReport:
        """Return the backups of each of ``databases``; with ``checksums``, each carries the
        SHA-256 its checksum file records (None without one, or when it cannot be read).

        Raises:
            ControllerError: a backup directory cannot be read.
        """
        return ListReport(
            listings=tuple(self._listing(database, checksums) for database in databases)
        )

    def _listing(self, database: Database, checksums: bool) -> Listing:
        identifier = database.identifier
        backups = self.catalog.backups(identifier)
        if checksums:
            backups = [
                attrs.evolve(b, sha256=recorded_checksum(self.catalog, identifier, b.name))
                for b in backups
            ]
        return Listing(
            database=database, backups=backups, location=self.layout.backup_dir(identifier)
        )


def recorded_checksum(catalog: BackupReader, identifier: str, name: BackupName) -> str | None:
    """Return the SHA-256 that the checksum file of backup ``name`` records, or None when it
    has none, it cannot be read or is malformed, or the backup is gone since listed."""
    try:
        return catalog.archive(identifier, name).checksum
    except ControllerError:
        return None
