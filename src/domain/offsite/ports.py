"""What the off-site copies need: the store that holds them, one port per role of its
callers (any backend: an S3 bucket, a directory), and the downloads of one restore or
verify."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import PurePath
from typing import Protocol

from pg_backup_manager.domain.names import BackupName, StoredArchive
from pg_backup_manager.domain.offsite_copies import OffsiteCopy
from pg_backup_manager.domain.ports import BackupReader


class OffsiteCopies(Protocol):
    """The copies of the backups in the off-site store, each database under its own key
    prefix (``<prefix>/<identifier>/``), which holds nothing of any other database."""

    def copies(self, identifier: str) -> list[OffsiteCopy]:
        """Return the backups of ``identifier`` in the store, newest first.

        Only the keys directly under the database's prefix whose names are
        backup names count: checksums, globals, deeper keys and any other
        object are never returned. Each is judged by what a restore needs
        (:meth:`OffsiteCopy.judged`): one that lacks it (a hand copy, a copy
        that lost its checksum) is returned with its ``problem``.

        Raises:
            ControllerError: the store cannot be reached, refuses the
                credentials, or has no such bucket.
        """


class OffsiteLister(OffsiteCopies, Protocol):
    """The copies, and where they are (``list --remote``, ``verify --remote``)."""

    def location(self, identifier: str) -> str:
        """Return where the copies of ``identifier`` are, for people (``s3://b/p/users/``)."""

    def with_left_out(self, identifier: str, copies: Sequence[OffsiteCopy]) -> list[OffsiteCopy]:
        """Return ``copies`` of ``identifier``, in order, each usable partial one with the
        pg_dump arguments its note records (``left_out``), read from the store; a note that
        cannot be read (encrypted, without the identity that decrypts it) or proven by its
        recorded SHA-256 leaves them unknown (empty).

        Raises:
            ControllerError: never for one note; only as :meth:`copies` does.
        """


class OffsiteUploader(OffsiteCopies, Protocol):
    """What ``sync`` needs: the copies, and making the missing ones."""

    def holds(self, identifier: str, name: BackupName, archive: StoredArchive) -> bool:
        """Return whether the store holds backup ``name`` with the size and SHA-256 of
        ``archive`` (False: it has no such key).

        Raises:
            ControllerError: the key holds other content (which is never
                overwritten), or the store cannot be reached.
        """

    def upload(
        self,
        identifier: str,
        name: BackupName,
        *,
        archive: StoredArchive,
        globals: StoredArchive | None,
        note: StoredArchive | None = None,
    ) -> OffsiteCopy:
        """Copy backup ``name`` (``archive``, whose checksum is known), its globals and, for
        a partial backup, its ``note`` of what it left out to the store, streaming; return
        the copy once the store reports it with the local size and the SHA-256 of
        ``archive``.

        The companions (note, globals, checksums) go first and the archive last, so a
        listed copy has them. No object is ever overwritten: one that exists
        already with the same size and SHA-256 counts as uploaded (an earlier,
        interrupted upload), and one with other content is an error. Of a copy
        whose archive is there already, only the missing companions are sent.

        Raises:
            ControllerError: the upload failed or could not be confirmed, or an
                object of another content holds a key; the local files are untouched.
        """


class OffsitePruner(OffsiteCopies, Protocol):
    """What off-site retention needs: the copies, and deleting one."""

    def delete(self, identifier: str, name: BackupName) -> None:
        """Delete backup ``name`` of ``identifier`` from the store, the archive first, then
        its companions; what is already gone is not an error.

        Raises:
            ControllerError: the store refused or could not be reached.
        """


class OffsiteDownloader(Protocol):
    """Brings a copy back (for :class:`OffsiteDownloads`)."""

    def location(self, identifier: str) -> str:
        """Return where the copies of ``identifier`` are, for people (``s3://b/p/users/``)."""

    def download(self, identifier: str, name: BackupName, into: PurePath) -> None:
        """Write backup ``name`` of ``identifier``, its checksum, and its globals and its note
        with their checksums if the store has them, into the directory ``into``, under their
        own names (the note checked against its checksum).

        Raises:
            BackupNotFoundError: the store has no such backup.
            IntegrityError: the store has the backup but not its checksum, or a note that
                is not proven by its checksum object.
            ControllerError: the store cannot be reached, or a file cannot be written.
        """


class OffsiteDownloads(Protocol):
    """Off-site backups, brought back for one operation."""

    def fetch(self, identifier: str, name: BackupName) -> AbstractContextManager[BackupReader]:
        """Download backup ``name`` of ``identifier`` (with its checksum and globals) into a
        private temporary directory beside the local backups; return, for the ``with``
        block, a catalog that holds that backup alone. Whatever happens, the downloaded
        files are removed at the end.

        Raises:
            BackupNotFoundError: the store has no such backup.
            IntegrityError: the store has no checksum of it.
            ControllerError: the store cannot be reached, or the files cannot be written.
        """
