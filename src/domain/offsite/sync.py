"""Off-site copies: what is missing from the object store, and ``sync``, which uploads it.

The store holds each database's backups under its own key prefix; a backup
counts as off-site only once the store reports it with the local size and
SHA-256 (see :class:`OffsiteUploader`), with everything a restore needs beside it
(its checksum object, and its globals with theirs when the local backup has
globals, and its note with its checksum when it is partial): a key of the right name is
not enough. A copy that lacks some of it
is completed (the archive is never sent again over an existing object).
Uploading never touches the local backup: a failed upload leaves it in place
for the next run.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import attrs

from pg_backup_manager.domain.errors import ControllerError, worst_exit_code
from pg_backup_manager.domain.history import Operation
from pg_backup_manager.domain.model import Database
from pg_backup_manager.domain.names import Backup, BackupName, StoredArchive
from pg_backup_manager.domain.offsite.ports import OffsiteUploader
from pg_backup_manager.domain.offsite_copies import OffsiteCopy
from pg_backup_manager.domain.ports import BackupReader, Clock, Locks, RunRecorder
from pg_backup_manager.domain.recording import recorded


@attrs.frozen(kw_only=True)
class SyncPlan:
    """What ``sync`` does with the local backups of a database, oldest first (the order to
    upload: the oldest is the one retention may soon delete locally)."""

    listed: tuple[Backup, ...]  # complete off-site: counted once the store confirms them
    incomplete: tuple[Backup, ...]  # listed, but lacking what a restore needs: to complete
    missing: tuple[Backup, ...]  # to upload


def plan_sync(local: Iterable[Backup], copies: Iterable[OffsiteCopy]) -> SyncPlan:
    """Return which of the ``local`` backups the store lists complete, which it lists
    incomplete, and which it lacks.

    A copy is complete when the controller would restore it (:attr:`OffsiteCopy.usable`)
    and it has globals whenever the local backup has them, and the note of what it left
    out whenever the local backup is partial (a copy made before notes went off-site
    lacks it, and is completed).
    """
    listed = {copy.name: copy for copy in copies}
    ordered = sorted(local, key=_age_order)
    complete = {
        backup.name
        for backup in ordered
        if (copy := listed.get(backup.name)) is not None
        and copy.usable
        and (copy.has_globals or not backup.has_globals)
        and (copy.partial or not backup.partial)
    }
    return SyncPlan(
        listed=tuple(backup for backup in ordered if backup.name in complete),
        incomplete=tuple(
            backup for backup in ordered if backup.name in listed and backup.name not in complete
        ),
        missing=tuple(backup for backup in ordered if backup.name not in listed),
    )


@attrs.frozen(kw_only=True)
class SyncResult:
    """What ``sync`` did for one database: the copies it made, those it completed (their
    archive was there, not what a restore needs with it), how many were there already,
    and the error that stopped it (the backups it names stay local)."""

    database: Database
    uploaded: tuple[OffsiteCopy, ...] = ()
    completed: tuple[OffsiteCopy, ...] = ()
    already_offsite: int = 0
    missing: tuple[BackupName, ...] = ()
    error: ControllerError | None = None


@attrs.frozen(kw_only=True)
class SyncReport:
    """The results of one ``sync``, in the order asked."""

    results: tuple[SyncResult, ...]

    @property
    def exit_code(self) -> int:
        """Return the exit code: 0, or that of the worst failure."""
        return worst_exit_code(result.error for result in self.results)


@attrs.frozen(kw_only=True)
class Sync:
    """Uploads every local backup that is missing off-site, oldest first, under each
    database's lock (so that retention cannot delete a backup being uploaded)."""

    catalog: BackupReader
    offsite: OffsiteUploader
    locks: Locks
    clock: Clock
    run_log: RunRecorder

    def __call__(self, databases: Sequence[Database]) -> SyncReport:
        """Upload what is missing off-site of each of ``databases``; return what happened.

        A failure (a busy lock too) is reported in the database's result, not
        raised: it stops that database's uploads, and the others go on. The
        backups not uploaded are listed in ``missing``.
        """
        return SyncReport(results=tuple(self.one(database) for database in databases))

    def one(self, database: Database) -> SyncResult:
        """Upload what is missing off-site of ``database``; see :meth:`__call__`."""
        identifier = database.identifier
        uploaded: list[OffsiteCopy] = []
        completed: list[OffsiteCopy] = []
        local: list[Backup] | None = None  # None: not read (the lock was busy)
        confirmed: set[BackupName] = set()
        proven: dict[BackupName, str | None] = {}  # off-site with this SHA-256: the record's
        doubted: set[BackupName] = set()  # in the store, but not as a restore needs it
        with recorded(
            run_log=self.run_log, clock=self.clock, identifier=identifier, operation=Operation.SYNC
        ) as recording:
            try:
                with self.locks.hold(identifier):
                    local = self.catalog.backups(identifier)
                    plan = plan_sync(local, self.offsite.copies(identifier))
                    # Once the store is listed, what it lacks or holds only in part (until
                    # uploaded or completed), and a listed key whose content was found other
                    # or absent, disproves an earlier sync's confirmation (``offsite.status``).
                    # A key this sync never got to judge leaves that confirmation as it was.
                    doubted = {backup.name for backup in (*plan.missing, *plan.incomplete)}
                    missing = list(plan.missing)
                    for backup in plan.listed:  # a listed key counts once its content does
                        archive = self._archive(identifier, backup)
                        doubted.add(backup.name)  # until the store shows that content
                        if self.offsite.holds(identifier, backup.name, archive):
                            doubted.discard(backup.name)
                            confirmed.add(backup.name)
                            proven[backup.name] = archive.checksum
                        else:
                            missing.append(backup)
                    # The upload of an incomplete copy sends what it lacks, never its archive.
                    for backup in sorted(missing + list(plan.incomplete), key=_age_order):
                        made = completed if backup in plan.incomplete else uploaded
                        made.append(copy := self._upload(identifier, backup))
                        proven[copy.name] = copy.sha256
            except ControllerError as error:
                recording.failed(error)
                done = confirmed | {copy.name for copy in (*uploaded, *completed)}
                left = tuple(
                    backup.name
                    for backup in sorted(local or (), key=_age_order)
                    if backup.name not in done
                )
                if local is not None:  # what the history tells ``status`` is (not) off-site
                    recording.not_offsite = tuple(map(str, left))
                    recording.confirmed_offsite = _pairs(proven)
                    recording.unusable_offsite = _names(doubted - proven.keys())
                return SyncResult(
                    database=database,
                    uploaded=tuple(uploaded),
                    completed=tuple(completed),
                    already_offsite=len(confirmed),
                    missing=left,
                    error=error,
                )
            recording.not_offsite = ()
            recording.confirmed_offsite = _pairs(proven)
            recording.unusable_offsite = ()
        return SyncResult(
            database=database,
            uploaded=tuple(uploaded),
            completed=tuple(completed),
            already_offsite=len(confirmed),
        )

    def _archive(self, identifier: str, backup: Backup) -> StoredArchive:
        archive = self.catalog.archive(identifier, backup.name)
        archive.proven_checksum(str(backup.name))  # refused without one
        return archive

    def _upload(self, identifier: str, backup: Backup) -> OffsiteCopy:
        archive = self._archive(identifier, backup)
        globals_file = self.catalog.globals(identifier, backup.name) if backup.has_globals else None
        note = self.catalog.note(identifier, backup.name) if backup.partial else None
        return self.offsite.upload(
            identifier, backup.name, archive=archive, globals=globals_file, note=note
        )


def _pairs(proven: dict[BackupName, str | None]) -> tuple[tuple[str, str], ...]:
    """Return what a sync confirmed as (name, SHA-256), oldest first: what its record keeps
    (a copy whose SHA-256 is unknown proves nothing)."""
    ordered = sorted(proven, key=lambda name: (name.taken_at, str(name)))
    return tuple((str(name), sha256) for name in ordered if (sha256 := proven[name]))


def _names(names: set[BackupName]) -> tuple[str, ...]:
    """Return ``names`` oldest first, as a record keeps them."""
    return tuple(str(name) for name in sorted(names, key=lambda n: (n.taken_at, str(n))))


def _age_order(backup: Backup) -> tuple[datetime, str]:
    """Sort key: oldest first (then by name, as names order two backups of one second)."""
    return backup.name.taken_at, str(backup.name)
