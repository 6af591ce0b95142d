"""``restore --remote`` and ``verify --remote``: an off-site copy is downloaded beside the
local backups, then restored or verified exactly as a local backup is (its SHA-256
checked against the one uploaded with it first: a mismatch changes nothing). The
downloaded files are removed whatever happens."""

from __future__ import annotations

from typing import Protocol

import attrs

from pg_backup_manager.domain.errors import IntegrityError
from pg_backup_manager.domain.model import Database
from pg_backup_manager.domain.names import BackupName
from pg_backup_manager.domain.offsite.ports import OffsiteDownloads, OffsiteLister
from pg_backup_manager.domain.ports import BackupReader
from pg_backup_manager.domain.restore.restoring import Restore, RestoreReport
from pg_backup_manager.domain.restore.verifying import Check, Verify, VerifyReport


class RestoreOf(Protocol):
    """Builds the local ``Restore`` over another catalog (the composition root's)."""

    def __call__(self, *, catalog: BackupReader) -> Restore:
        """Return a Restore that reads its backups from ``catalog``."""


class VerifyOf(Protocol):
    """Builds the local ``Verify`` over another catalog (the composition root's)."""

    def __call__(self, *, catalog: BackupReader) -> Verify:
        """Return a Verify that reads its backups from ``catalog``."""


@attrs.frozen(kw_only=True)
class FromOffsite:
    """Restores and verifies off-site copies with the local use cases, each built by the
    composition root over the catalog of the one downloaded copy."""

    offsite: OffsiteLister
    downloads: OffsiteDownloads
    restore: RestoreOf
    verify: VerifyOf

    def restore_backup(
        self,
        database: Database,
        backup: str,
        *,
        owners: bool = True,
        safety_dump: bool = True,
        with_globals: bool = False,
    ) -> RestoreReport:
        """Download the off-site copy ``backup`` of ``database`` and restore it as
        :meth:`Restore.backup` does (with ``with_globals``, its downloaded globals).

        Raises:
            InvalidBackupNameError: ``backup`` is not a bare backup name.
            BackupNotFoundError: the store has no such backup (or no globals of it).
            IntegrityError: the download does not match the SHA-256 uploaded with it,
                or the store has none; the database is as it was.
            ControllerError: the store, the server or the restore failed (see
                :meth:`Restore.backup`).
        """
        name = BackupName.parse(backup)
        with self.downloads.fetch(database.identifier, name) as fetched:
            return self.restore(catalog=fetched).backup(
                database,
                str(name),
                owners=owners,
                safety_dump=safety_dump,
                with_globals=with_globals,
            )

    def verify_backups(
        self, database: Database, *, backup: str | None = None, restore: bool = False
    ) -> list[VerifyReport]:
        """Download and verify the off-site copy ``backup`` of ``database``, or each of its
        off-site copies, newest first, one at a time; return one report per copy (a copy
        that cannot be decrypted or has no checksum off-site fails its check).

        Raises:
            InvalidBackupNameError, BackupNotFoundError: ``backup`` names no off-site copy.
            ControllerError: the store or the server failed (see :class:`Verify`).
        """
        if backup is not None:
            names = [BackupName.parse(backup)]
        else:
            names = [copy.name for copy in self.offsite.copies(database.identifier)]
        reports: list[VerifyReport] = []
        for name in names:
            try:
                with self.downloads.fetch(database.identifier, name) as fetched:
                    verify = self.verify(catalog=fetched)
                    reports += verify([database], backup=str(name), restore=restore)
            except IntegrityError as error:  # a copy that cannot be trusted fails its check
                failed = Check(name=name, problem=str(error))
                reports.append(VerifyReport(database=database, checks=(failed,)))
        return reports
