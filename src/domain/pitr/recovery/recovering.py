"""``controller recover <database> --to <time|latest> --into <directory>``: a data directory
that a server of the same major version starts from, recovers to the target by itself,
and promotes. The running server and the backups are never touched."""

from __future__ import annotations

from datetime import datetime
from pathlib import PurePath

import attrs

from pg_backup_manager.domain.errors import ConfigurationError, ControllerError, IntegrityError
from pg_backup_manager.domain.history import Operation
from pg_backup_manager.domain.model import Database
from pg_backup_manager.domain.pitr.model import Window
from pg_backup_manager.domain.pitr.ports import PitrStore
from pg_backup_manager.domain.pitr.recovery.plan import (
    RecoveryPlan,
    Target,
    choose_source,
    plan_recovery,
)
from pg_backup_manager.domain.pitr.recovery.ports import RecoveryWriting, WalInspector
from pg_backup_manager.domain.pitr.supervision import COMMIT_MARGIN
from pg_backup_manager.domain.pitr.windows import service_windows
from pg_backup_manager.domain.ports import Clock, RunRecorder
from pg_backup_manager.domain.recording import recorded


@attrs.frozen(kw_only=True)
class RecoverReport:
    """What ``recover`` wrote (``plan``), where, or why it could not."""

    identifier: str
    into: PurePath
    plan: RecoveryPlan | None = None
    error: ControllerError | None = None

    @property
    def exit_code(self) -> int:
        return self.error.exit_code if self.error is not None else 0


def windows_of(store: PitrStore, identifier: str) -> tuple[Window, ...]:
    """Return the recoverable windows of ``identifier``, oldest first."""
    return service_windows(store.contents(identifier, s) for s in store.streams(identifier))


@attrs.frozen(kw_only=True)
class Recover:
    """Writes recoveries of a service's streams into new directories."""

    store: PitrStore
    writer: RecoveryWriting
    wal: WalInspector
    run_log: RunRecorder
    clock: Clock

    def __call__(self, database: Database, *, target: Target, into: PurePath) -> RecoverReport:
        identifier = database.identifier
        try:
            with recorded(
                run_log=self.run_log,
                clock=self.clock,
                identifier=identifier,
                operation=Operation.RECOVER,
            ) as recording:
                plan = self._write(identifier, target, into)
                recording.archive = f"{plan.source.base_backup.name} into {into}"
        except ControllerError as error:
            return RecoverReport(identifier=identifier, into=into, error=error)
        return RecoverReport(identifier=identifier, into=into, plan=plan)

    def _write(self, identifier: str, target: Target, into: PurePath) -> RecoveryPlan:
        windows = windows_of(self.store, identifier)
        try:
            source, unproven = choose_source(windows, target), None
        except ConfigurationError as outside:
            # Past the newest proof of a window, the WAL itself may still show the time
            # received: a commit after it is in the WAL copied (checked below).
            newest = max(windows, key=lambda w: w.end_at, default=None)
            if not isinstance(target, datetime) or newest is None or target < newest.end_at:
                raise
            source = choose_source([attrs.evolve(newest, end_at=target)], target)
            unproven = outside
        stream, base = source.window.stream, source.base_backup
        with self.writer.writing(identifier, into) as draft:
            draft.copy_base(stream, base)
            draft.copy_wal(stream, source.wal)
            scan = self.wal.scan(
                draft.wal_directory,
                timeline=stream.timeline,
                start_lsn=base.start_lsn,
                server_major=stream.server_major,
                commits_only=True,
            )
            last = scan.last_commit_at
            at = target if isinstance(target, datetime) else None
            if unproven is not None and (at is None or last is None or at > last - COMMIT_MARGIN):
                raise unproven
            if scan.damage is not None and (at is None or last is None or at >= last):
                raise IntegrityError(_damaged(stream.name, scan.damage, last))
            plan = plan_recovery(source, target=target, last_commit_at=last)
            draft.configure(plan.settings)
        return plan


def _damaged(stream: str, damage: str, last_commit: datetime | None) -> str:
    readable = (
        f"; recover to a time up to its last readable commit, {last_commit:%Y-%m-%dT%H:%M:%S.%fZ}, "
        "with --to"
        if last_commit is not None
        else ""
    )
    return (
        f"the WAL of stream {stream} is damaged before its end ({damage}): a recovery "
        f"would stop there, short of what was received{readable}"
    )
