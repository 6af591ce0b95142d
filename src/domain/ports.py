"""What every capability of the domain needs from the world: time, the backup files, locks
and the run history.

Each Protocol is one role; a use case receives only the ones it calls.
Adapters satisfy them structurally (they do not inherit from them); the unit
tests' fakes do too. The ports of one capability are in its folder's ``ports``
module (``backups/ports.py`` has the PostgreSQL tools that make a backup).
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol

from pg_backup_manager.domain.history import Outcome, RunRecord
from pg_backup_manager.domain.names import Backup, BackupName, StoredArchive


class Clock(Protocol):
    """The time, and a way to let it pass."""

    def now(self) -> datetime:
        """Return the current time as an aware UTC datetime."""

    def sleep(self, seconds: float) -> None:
        """Return after ``seconds``; a stop signal may interrupt it by raising."""


class Schedule(Protocol):
    """When scheduled runs happen."""

    def next_after(self, moment: datetime) -> datetime:
        """Return the first run time strictly after the aware ``moment``, in UTC."""

    def local(self, moment: datetime) -> datetime:
        """Return ``moment`` in the schedule's time zone (``TZ``), for people to read."""


class Locks(Protocol):
    """One operation at a time on each database's backups."""

    def hold(self, identifier: str, *, create: bool = False) -> AbstractContextManager[None]:
        """Hold the lock of ``identifier`` for the ``with`` block; the directory of a
        database of a server is made only with ``create`` (a backup is written there).

        Raises:
            BusyError: another process held it for longer than the wait allowed.
        """


class BackupReader(Protocol):
    """The committed backups of each database, read: what a restore, a verify, a sync, a
    listing and a status need (a downloaded off-site copy can serve it too)."""

    def backups(self, identifier: str) -> list[Backup]:
        """Return the committed backups of ``identifier``, newest first.

        Files whose names are not backup names (temporary files of a dump in
        progress or one that died, notes, checksums) are never returned.
        """

    def backup_names(self, identifier: str) -> list[BackupName]:
        """Return the names of the committed backups of ``identifier``, newest first: what
        :meth:`backups` returns, without reading each file's size (retention needs none)."""

    def archive(self, identifier: str, name: BackupName) -> StoredArchive:
        """Return the file of backup ``name`` and its recorded SHA-256.

        Raises:
            BackupNotFoundError: there is no such backup.
            IntegrityError: its checksum file is not a ``sha256sum`` line.
            ControllerError: its checksum file cannot be read.
        """

    def globals(self, identifier: str, name: BackupName) -> StoredArchive:
        """Return the globals file saved with backup ``name`` and its recorded SHA-256.

        Raises:
            BackupNotFoundError: the backup has no globals file (made before
                globals were saved, or there is no such backup).
            IntegrityError, ControllerError: as :meth:`archive`.
        """

    def note(self, identifier: str, name: BackupName) -> StoredArchive | None:
        """Return the note of what backup ``name`` left out (``<stem>.left-out.json``)
        with the SHA-256 of its content, worked out as it is read (a note has no checksum
        file); None when there is none: the backup is whole.

        Raises:
            ControllerError: the note cannot be read.
        """


class BackupDeleter(Protocol):
    """Removes committed backups: retention alone does."""

    def delete(self, identifier: str, name: BackupName) -> None:
        """Delete a backup, its checksum, and its globals file with its checksum; what is
        already gone is not an error."""


class BackupCatalog(BackupReader, BackupDeleter, Protocol):
    """The committed backups, read and deleted: what retention needs."""


class Directories(Protocol):
    """The backup directories themselves."""

    def prepare(self, identifiers: Iterable[str], *, shared: bool) -> None:
        """Create the backup directories (and the shared ones if ``shared``).

        Raises:
            ControllerError: a directory cannot be created.
        """


class RunRecorder(Protocol):
    """Where every operation leaves its record: the history, and whoever is told of it."""

    def record(self, identifier: str, record: RunRecord) -> None:
        """Add ``record`` to the history of ``identifier``; never raise.

        A history that cannot be written is reported where the operator sees
        it, and the operation's own outcome stands.
        """


class RunHistory(Protocol):
    """The history of the operations on each database, read."""

    def records(self, identifier: str) -> list[RunRecord]:
        """Return the history of ``identifier``, oldest first (the newest 1000 at most)."""

    def totals(self, identifier: str) -> dict[Outcome, int]:
        """Return how many backup runs (scheduled runs and dumps) of ``identifier``
        ended each way, ever."""

    def unreadable_lines(self, identifier: str) -> int:
        """Return how many lines of the history of ``identifier`` could not be read (and
        are left out of the records); 0 without a history."""

    def problem(self, identifier: str) -> str | None:
        """Return why the history of ``identifier`` could not be read at all (as "not a
        regular file"); None when it was read, or there is none."""
