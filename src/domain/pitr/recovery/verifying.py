"""``controller verify <database> --pitr``: proof that the newest WAL received can be
recovered to. The newest base backup and every segment after it are written into a
scratch directory, a server of the stream's major version recovers them to the end
and promotes, it must have replayed the last record given and answer a query; then
it is stopped and the directory removed."""

from __future__ import annotations

from datetime import timedelta

import attrs

from pg_backup_manager.domain.errors import ControllerError, IntegrityError
from pg_backup_manager.domain.history import Operation
from pg_backup_manager.domain.model import Database
from pg_backup_manager.domain.pitr.model import Lsn, Window
from pg_backup_manager.domain.pitr.ports import PitrStore
from pg_backup_manager.domain.pitr.recovery.plan import LATEST, choose_source, plan_recovery
from pg_backup_manager.domain.pitr.recovery.ports import (
    RecoveryScratch,
    RecoveryWriting,
    ScratchServers,
    WalInspector,
)
from pg_backup_manager.domain.pitr.recovery.recovering import windows_of
from pg_backup_manager.domain.pitr.wal_names import format_lsn
from pg_backup_manager.domain.ports import Clock, RunRecorder
from pg_backup_manager.domain.recording import recorded


@attrs.frozen(kw_only=True)
class PitrProof:
    """What ``verify --pitr`` proved: ``window`` recovers to ``replayed`` (the end of
    the last record), from base backup ``base``, in ``took``."""

    window: Window
    base: str
    replayed: Lsn
    took: timedelta


@attrs.frozen(kw_only=True)
class VerifyPitrReport:
    identifier: str
    proof: PitrProof | None = None
    error: ControllerError | None = None

    @property
    def exit_code(self) -> int:
        return self.error.exit_code if self.error is not None else 0


@attrs.frozen(kw_only=True)
class VerifyPitr:
    """Recovers each service's newest WAL on a scratch server (see the module)."""

    store: PitrStore
    scratch: RecoveryScratch
    writer: RecoveryWriting
    wal: WalInspector
    servers: ScratchServers
    run_log: RunRecorder
    clock: Clock
    timeout: float

    def __call__(self, database: Database) -> VerifyPitrReport:
        identifier = database.identifier
        try:
            with recorded(
                run_log=self.run_log,
                clock=self.clock,
                identifier=identifier,
                operation=Operation.VERIFY_PITR,
            ) as recording:
                proof = self._prove(database)
                recording.archive = f"{proof.window.stream.name}/{proof.base}"
        except ControllerError as error:
            return VerifyPitrReport(identifier=identifier, error=error)
        return VerifyPitrReport(identifier=identifier, proof=proof)

    def _prove(self, database: Database) -> PitrProof:
        started = self.clock.now()
        windows = windows_of(self.store, database.identifier)
        newest = _reaching_the_newest_wal(self.store, database.identifier, windows)
        source = choose_source([newest], LATEST)
        stream, base = newest.stream, source.base_backup
        with self.scratch.scratch(database.identifier) as path:
            with self.writer.writing(database.identifier, path) as draft:
                draft.copy_base(stream, base)
                draft.copy_wal(stream, source.wal)
                draft.configure(plan_recovery(source, target=LATEST, last_commit_at=None).settings)
                scan = self.wal.scan(
                    draft.wal_directory,
                    timeline=stream.timeline,
                    start_lsn=base.start_lsn,
                    server_major=stream.server_major,
                )
            if scan.damage is not None:
                raise IntegrityError(
                    f"the WAL of stream {stream.name} is damaged before its end: {scan.damage}"
                )
            last = scan.last_record_lsn or base.start_lsn
            with self.servers.running(
                path, major=stream.server_major, user=database.user, dbname=database.dbname
            ) as server:
                replayed = server.promoted(timeout=self.timeout)
                if replayed <= last:
                    raise IntegrityError(
                        f"recovery of stream {stream.name} stopped at {format_lsn(replayed)}, "
                        f"before the last record received ({format_lsn(last)})"
                    )
                if server.query("select 1") != "1":
                    raise IntegrityError("the recovered server does not answer 'select 1'")
        return PitrProof(
            window=newest, base=base.name, replayed=replayed, took=self.clock.now() - started
        )


def _reaching_the_newest_wal(
    store: PitrStore, identifier: str, windows: tuple[Window, ...]
) -> Window:
    """Return the window that ends at the newest WAL received.

    Raises:
        IntegrityError: there is none: no base backup with its WAL, or the newest WAL
            lies after a gap, or in a stream that has no base backup yet.
    """
    streams = store.streams(identifier)  # newest first
    if not streams:
        raise IntegrityError("nothing to verify: no stream of WAL yet (is WAL archiving on?)")
    live = streams[0]
    ending = [w for w in windows if w.stream.name == live.name and w.gap_at is None]
    if ending:
        return ending[0]
    gapped = [w for w in windows if w.stream.name == live.name]
    if gapped:
        last = gapped[-1]
        raise IntegrityError(
            f"the newest WAL of stream {live.name} cannot be recovered to: the window "
            f"from its base backup ends at {last.end_at:%Y-%m-%dT%H:%M:%SZ} ({last.ends_because})"
        )
    raise IntegrityError(
        f"the newest WAL of stream {live.name} cannot be recovered to: no base backup "
        "in it has the WAL it needs yet (see 'controller list <database> --pitr')"
    )
