"""Restore tests on ``VERIFY_SCHEDULE``: the newest backup of a database (and, with
``VERIFY_REMOTE``, its newest off-site copy) verified exactly as ``verify --restore``
verifies it, each recorded as an operation of its own (``verify-scheduled``,
``verify-scheduled-remote``), and told as every record is."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import attrs

from pg_backup_manager.domain.backups.policy import dated_in_the_future
from pg_backup_manager.domain.errors import ControllerError, one_line
from pg_backup_manager.domain.history import RunRecord
from pg_backup_manager.domain.model import Database
from pg_backup_manager.domain.monitoring.freshness import CLOCK_SKEW
from pg_backup_manager.domain.names import BackupName
from pg_backup_manager.domain.offsite.from_offsite import FromOffsite
from pg_backup_manager.domain.ports import BackupReader, Clock, RunHistory, RunRecorder
from pg_backup_manager.domain.recording import recorded
from pg_backup_manager.domain.restore.verifying import Check, Verify, VerifyReport
from pg_backup_manager.domain.verification.model import (
    PASSED_AGAIN,
    Found,
    Verification,
    VerifySchedule,
    operation,
)
from pg_backup_manager.domain.verification.status import Verified


class Unrecorded:
    """A run log that keeps nothing: the ``verify --restore`` a scheduled verification runs
    leaves its record to the scheduled verification, which records it once, as its own."""

    def record(self, identifier: str, record: RunRecord) -> None:
        """Keep nothing."""


@attrs.frozen(kw_only=True)
class ScheduledVerify:
    """Verifies the newest backup of a database (not one dated in the future, as
    ``status`` judges them), and when ``asked`` (``VERIFY_REMOTE``) its newest usable
    off-site copy, with ``verify`` (``verify --restore``: checksums, archive read, restore
    into a scratch database, rows counted) and ``from_offsite`` (its download first)."""

    catalog: BackupReader
    verify: Verify
    from_offsite: Callable[[], FromOffsite]  # the off-site store: built for VERIFY_REMOTE alone
    history: RunHistory
    run_log: RunRecorder
    clock: Clock
    asked: VerifySchedule | None = None  # None: nothing asked of the off-site copies

    @property
    def remote(self) -> bool:
        """Return whether the newest off-site copy is verified too (``VERIFY_REMOTE``)."""
        return self.asked is not None and self.asked.remote

    def __call__(self, database: Database) -> tuple[Verification, ...]:
        """Verify ``database``'s newest backup, then (``remote``) its newest usable off-site
        copy; return what each found. Never raises a ControllerError.

        Each verification is recorded (its backup's name, its outcome, its error), and
        one that passes after one of its kind failed is noted :data:`PASSED_AGAIN`. A
        verification that cannot be done (the database busy for ``LOCK_TIMEOUT``, the
        server or the store unreachable) failed: nothing was proven. One with nothing to
        verify (no backup, or no usable off-site copy, yet) is skipped and recorded
        nowhere: the backups' freshness is ``health``'s own rule.
        """
        found = [self._verified(database, offsite=False)]
        if self.remote:
            found.append(self._verified(database, offsite=True))
        return tuple(found)

    def _verified(self, database: Database, *, offsite: bool) -> Verification:
        identifier = database.identifier
        kind = operation(offsite=offsite)
        store: FromOffsite | None = None
        error: ControllerError | None = None
        newest: BackupName | None = None
        try:
            if offsite:
                store = self.from_offsite()
                newest = self._newest_copy(store, identifier)
            else:
                newest = self._newest(self.catalog.backup_names(identifier))
        except ControllerError as failure:
            error = failure
        if newest is None and error is None:
            what = "usable off-site copy" if offsite else "backup"
            return Verification(
                database=database,
                offsite=offsite,
                found=Found.SKIPPED,
                problem=f"no {what} to verify yet",
            )
        history = self.history.records(identifier)
        failed_before = Verified.of(history, offsite=offsite).failed
        try:
            with recorded(
                run_log=self.run_log, clock=self.clock, identifier=identifier, operation=kind
            ) as recording:
                if error is not None:
                    raise error
                assert newest is not None
                recording.archive = str(newest)
                check = self._check(database, newest, store)
                if check.problem is not None:
                    recording.failed(check.problem)
                elif failed_before:
                    recording.note = PASSED_AGAIN
        except ControllerError as failure:
            return Verification(
                database=database,
                offsite=offsite,
                found=Found.FAILED,
                backup=newest,
                problem=one_line(failure),
            )
        return Verification(
            database=database,
            offsite=offsite,
            found=Found.PASSED if check.passed else Found.FAILED,
            backup=newest,
            problem=None if check.problem is None else one_line(check.problem),
            tables=check.tables,
        )

    def _newest(self, names: Sequence[BackupName]) -> BackupName | None:
        """Return the newest of ``names`` (newest first) not dated in the future."""
        now = self.clock.now()
        return next(
            (
                name
                for name in names
                if not dated_in_the_future(name, now=now, allowance=CLOCK_SKEW)
            ),
            None,
        )

    def _newest_copy(self, store: FromOffsite, identifier: str) -> BackupName | None:
        """Return the newest off-site copy the controller would restore (an unusable one is
        ``list --remote``'s and ``sync``'s business), not dated in the future."""
        copies = store.offsite.copies(identifier)
        return self._newest([copy.name for copy in copies if copy.usable])

    def _check(self, database: Database, name: BackupName, store: FromOffsite | None) -> Check:
        """Return the verdict of ``verify --restore`` on backup ``name`` (of the off-site
        ``store``'s copy when given), which records nothing of its own.

        Raises:
            ControllerError: as ``verify --restore`` raises it (busy, the server or the
                store failed): no verdict on the backup.
        """
        verify = attrs.evolve(self.verify, run_log=Unrecorded())
        reports: list[VerifyReport]
        if store is None:
            reports = verify.one(database, backup=str(name), restore=True)
        else:

            def verify_over(*, catalog: BackupReader) -> Verify:
                return attrs.evolve(verify, catalog=catalog)

            copies = attrs.evolve(store, verify=verify_over)
            reports = copies.verify_backups(database, backup=str(name), restore=True)
        checks = [check for report in reports for check in report.checks]
        failed = [check for check in checks if not check.passed]
        if failed or not checks:
            return failed[0] if failed else Check(name=name, problem="nothing was verified")
        return checks[0]
