"""What the domain needs from the world besides PostgreSQL: time, files, locks.

Each Protocol is one role; a use case receives only the ones it calls.
Adapters satisfy them structurally (they do not inherit from them); the unit
tests' fakes do too. The PostgreSQL tools' ports are in ``server_ports``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import PurePath
from typing import Protocol

from pg_backup_manager.domain.globals import GlobalStatement
from pg_backup_manager.domain.health import SchedulerState
from pg_backup_manager.domain.history import Outcome, RunRecord
from pg_backup_manager.domain.names import Backup, BackupName, OffsiteCopy, StoredArchive


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


class Heartbeat(Protocol):
    """Tells the container's health check that the scheduler lives."""

    def beat(self) -> None:
        """Record that the scheduler is alive now; never raise."""

    def while_busy(self, *, since: datetime, until: datetime) -> AbstractContextManager[None]:
        """Record a run in progress since ``since`` that must end by ``until``, and keep
        beating while the block (the run) works; never raise."""

    def waiting(self, due: datetime) -> None:
        """Record that the scheduler waits for the run due at ``due``, and beat; never raise."""

    def started(self, at: datetime) -> None:
        """Record that the scheduler started at ``at``; never raise."""

    def started_at(self) -> datetime | None:
        """Return when the scheduler started, or None when that is unknown."""

    def state(self) -> SchedulerState | None:
        """Return what the scheduler last recorded doing, or None when that is unknown."""

    def age(self) -> float:
        """Return the seconds since the last beat.

        Raises:
            ControllerError: there is no beat of this controller's to read.
        """


class Locks(Protocol):
    """One operation at a time on each database's backups."""

    def hold(self, identifier: str) -> AbstractContextManager[None]:
        """Hold the lock of ``identifier`` for the ``with`` block.

        Raises:
            BusyError: another process held it for longer than the wait allowed.
        """


class BackupCatalog(Protocol):
    """The committed backups of each database."""

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

    def delete(self, identifier: str, name: BackupName) -> None:
        """Delete a backup, its checksum, and its globals file with its checksum; what is
        already gone is not an error."""


class Draft(Protocol):
    """A backup being written: a file that becomes a backup only when committed."""

    @property
    def path(self) -> PurePath:
        """Return where the tools write the archive."""

    @property
    def globals_path(self) -> PurePath:
        """Return where the cluster's globals are written, to be kept beside the archive."""

    def commit(self, checksum: str, globals_checksum: str) -> Backup:
        """Make the archive and its globals durable, record their checksums beside them
        and give them their names (the globals first: a listed backup has its globals).

        Raises:
            ControllerError: a backup of that name exists, or the file cannot be
                committed.
        """


class Staging(Protocol):
    """Where new backups are written, all or nothing."""

    def begin(self, identifier: str, name: BackupName) -> AbstractContextManager[Draft]:
        """Return a draft of backup ``name`` for the ``with`` block.

        Whatever the block raises (a stop signal too), or if it ends without a
        commit, nothing of the draft is left. A failure on a full device is
        raised as "no space left", whatever the tools made of it.

        Raises:
            ControllerError: the backup directory cannot be used (missing
                rights, writable by other users, a backup called ``name``).
        """


class SharedCopies(Protocol):
    """The one shared archive of each database, for other environments."""

    def share(self, identifier: str, name: BackupName) -> PurePath:
        """Copy backup ``name`` (and its checksum) to the shared ``file.dump``, atomically,
        and its globals to ``file.globals.sql`` (removed if the backup has none).

        Returns the shared file's path.

        Raises:
            BackupNotFoundError: there is no such backup.
            ControllerError: the copy could not be written.
        """

    def archive(self, identifier: str) -> StoredArchive:
        """Return the shared ``file.dump`` of ``identifier`` and its recorded SHA-256.

        Raises:
            BackupNotFoundError: there is no shared archive.
            IntegrityError, ControllerError: as :meth:`BackupCatalog.archive`.
        """

    def globals(self, identifier: str) -> StoredArchive:
        """Return the shared ``file.globals.sql`` of ``identifier`` and its SHA-256.

        Raises:
            BackupNotFoundError: there is no shared globals file.
            IntegrityError, ControllerError: as :meth:`BackupCatalog.archive`.
        """


class GlobalsReader(Protocol):
    """Reads the statements of a globals file."""

    def read(self, path: PurePath) -> list[GlobalStatement]:
        """Return the statements of the globals file at ``path``.

        Raises:
            IntegrityError: it cannot be read as SQL (cut short, not UTF-8).
            ControllerError: it cannot be read.
        """


class DeadMansSwitch(Protocol):
    """A monitor that expects a ping at each scheduled run (Healthchecks.io and alike)."""

    def started(self, identifiers: Iterable[str]) -> None:
        """Say that a run of ``identifiers`` started; never raise."""

    def finished(self, identifiers: Iterable[str], errors: Mapping[str, str]) -> None:
        """Say that it ended; ``errors`` holds each failed database's error. Never raise."""


class Directories(Protocol):
    """The backup directories themselves."""

    def prepare(self, identifiers: Iterable[str], *, shared: bool) -> None:
        """Create the backup directories (and the shared ones if ``shared``).

        Raises:
            ControllerError: a directory cannot be created.
        """


class RunLog(Protocol):
    """The history of the operations on each database (and whoever is told of them)."""

    def record(self, identifier: str, record: RunRecord) -> None:
        """Add ``record`` to the history of ``identifier``; never raise.

        A history that cannot be written is reported where the operator sees
        it, and the operation's own outcome stands.
        """

    def records(self, identifier: str) -> list[RunRecord]:
        """Return the history of ``identifier``, oldest first (the newest 1000 at most)."""

    def totals(self, identifier: str) -> dict[Outcome, int]:
        """Return how many backup runs (scheduled runs and dumps) of ``identifier``
        ended each way, ever."""

    def unreadable_lines(self, identifier: str) -> int:
        """Return how many lines of the history of ``identifier`` could not be read (and
        are left out of the records); 0 without a history."""


class OffsiteStore(Protocol):
    """Copies of the backups in an object store, each database under its own key prefix
    (``<prefix>/<identifier>/``), which holds nothing of any other database."""

    def location(self, identifier: str) -> str:
        """Return where the copies of ``identifier`` are, for people (``s3://b/p/users/``)."""

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
    ) -> OffsiteCopy:
        """Copy backup ``name`` (``archive``, whose checksum is known) and its globals to the
        store, streaming; return the copy once the store reports it with the local size
        and the SHA-256 of ``archive``.

        The companions (globals, checksums) go first and the archive last, so a
        listed copy has them. No object is ever overwritten: one that exists
        already with the same size and SHA-256 counts as uploaded (an earlier,
        interrupted upload), and one with other content is an error. Of a copy
        whose archive is there already, only the missing companions are sent.

        Raises:
            ControllerError: the upload failed or could not be confirmed, or an
                object of another content holds a key; the local files are untouched.
        """

    def download(self, identifier: str, name: BackupName, into: PurePath) -> None:
        """Write backup ``name`` of ``identifier``, its checksum, and its globals with their
        checksum if the store has them, into the directory ``into``, under their own names.

        Raises:
            BackupNotFoundError: the store has no such backup.
            IntegrityError: the store has the backup but not its checksum.
            ControllerError: the store cannot be reached, or a file cannot be written.
        """

    def delete(self, identifier: str, name: BackupName) -> None:
        """Delete backup ``name`` of ``identifier`` from the store, the archive first, then
        its companions; what is already gone is not an error.

        Raises:
            ControllerError: the store refused or could not be reached.
        """


class OffsiteDownloads(Protocol):
    """Off-site backups, brought back for one operation."""

    def fetch(self, identifier: str, name: BackupName) -> AbstractContextManager[BackupCatalog]:
        """Download backup ``name`` of ``identifier`` (with its checksum and globals) into a
        private temporary directory beside the local backups; return, for the ``with``
        block, a catalog that holds that backup alone. Whatever happens, the downloaded
        files are removed at the end.

        Raises:
            BackupNotFoundError: the store has no such backup.
            IntegrityError: the store has no checksum of it.
            ControllerError: the store cannot be reached, or the files cannot be written.
        """
