"""Every operation leaves one record per database: in its run history, and told to whoever
hears of it (the ``run_log`` the composition root gives, a
:class:`~pg_backup_manager.domain.monitoring.telling.Journal`)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime

import attrs

from pg_backup_manager.domain.errors import ControllerError, one_line
from pg_backup_manager.domain.history import Operation, Outcome, RunRecord
from pg_backup_manager.domain.names import Backup
from pg_backup_manager.domain.ports import Clock, RunRecorder


@attrs.define
class Recording:
    """What an operation in progress will record: its backup (or archive, and what that
    left out), or its error, and for a ``sync`` the local backups it left not off-site and
    those it confirmed off-site (name and SHA-256), and those whose copy it found
    unusable."""

    backup: Backup | None = None
    archive: str | None = None
    sha256: str | None = None
    error: str | None = None
    not_offsite: tuple[str, ...] | None = None
    confirmed_offsite: tuple[tuple[str, str], ...] | None = None
    unusable_offsite: tuple[str, ...] | None = None
    note: str | None = None  # what happened besides success or failure
    # What the archive a restore loaded left out (None: it is whole, or no archive yet).
    left_out: tuple[str, ...] | None = None

    def failed(self, error: BaseException | str) -> None:
        """Record a failure that the operation reports rather than raises."""
        self.error = one_line(error)

    def to_record(self, operation: Operation, started: datetime, finished: datetime) -> RunRecord:
        """Return the record of the operation as it stands."""
        backup = self.backup
        return RunRecord(
            operation=operation,
            started_at=started,
            finished_at=finished,
            outcome=Outcome.FAILURE if self.error is not None else Outcome.SUCCESS,
            backup=str(backup.name) if backup is not None else self.archive,
            size_bytes=backup.size if backup is not None else None,
            sha256=backup.sha256 if backup is not None else self.sha256,
            error=self.error,
            pg_dump_version=backup.pg_dump_version if backup is not None else None,
            server_version=backup.server_version if backup is not None else None,
            not_offsite=self.not_offsite,
            confirmed_offsite=self.confirmed_offsite,
            unusable_offsite=self.unusable_offsite,
            note=self.note,
            partial=backup.partial if backup is not None else self.left_out is not None,
            left_out=backup.left_out if backup is not None else self.left_out or (),
        )


@contextlib.contextmanager
def recorded(
    *, run_log: RunRecorder, clock: Clock, identifier: str, operation: Operation
) -> Iterator[Recording]:
    """Record the operation that the ``with`` block carries out on ``identifier``.

    It failed if the block raised a ControllerError (which goes on) or called
    :meth:`Recording.failed`. A stop signal records nothing: the operation did
    not end, it was ended.
    """
    started = clock.now()
    recording = Recording()
    try:
        yield recording
    except ControllerError as error:
        recording.failed(error)
        run_log.record(identifier, recording.to_record(operation, started, clock.now()))
        raise
    run_log.record(identifier, recording.to_record(operation, started, clock.now()))
