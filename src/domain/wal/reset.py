"""``resetwal``: the last resort for a cluster that will not start."""

from __future__ import annotations

from pathlib import PurePath

import attrs

from pg_backup_manager.domain.errors import ServerRunningError
from pg_backup_manager.domain.model import Database, Layout
from pg_backup_manager.domain.ports import Clock, Locks
from pg_backup_manager.domain.wal.ports import LockFile, WalResetter


@attrs.frozen(kw_only=True)
class ResetReport:
    """What ``pg_resetwal`` said it did (or would do), and where the evidence went."""

    database: Database
    output: str
    dry_run: bool
    evidence: PurePath | None = None

    @property
    def exit_code(self) -> int:
        """Return 0: a reset that did not happen raises instead of reporting."""
        return 0


@attrs.frozen(kw_only=True)
class ResetWal:
    """Resets the write-ahead log of a database's data directory."""

    resetter: WalResetter
    locks: Locks
    clock: Clock
    layout: Layout

    def __call__(
        self, database: Database, *, dry_run: bool = False, force: bool = False
    ) -> ResetReport:
        """Reset ``database``'s WAL; with ``dry_run`` only ``pg_resetwal -n`` runs.

        Refuses while the directory has a server lock (``postmaster.pid``): a live
        server, or one whose process is not visible from here (another
        container). Before anything changes, ``pg_controldata`` and ``pg_resetwal
        -n`` are recorded and ``global/pg_control`` and ``pg_wal`` copied into
        ``<backup dir>/resetwal-<UTC time>/``; ``-f`` is passed only with ``force``.

        Raises:
            ServerRunningError: the directory is locked by a server.
            BusyError: another operation holds the database's lock.
            ControllerError: it is not a data directory, or the tool failed
                (without ``force``, ``pg_resetwal`` refuses a cluster that was
                not shut down cleanly).
        """
        data_dir = self.layout.database_dir(database.identifier)
        with self.locks.hold(database.identifier):
            _refuse_if_locked(data_dir, self.resetter.server_lock(data_dir))
            if dry_run:
                return ResetReport(
                    database=database, output=self.resetter.preview(data_dir), dry_run=True
                )
            stamp = self.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
            evidence = self.resetter.preserve(
                data_dir, into=self.layout.backup_dir(database.identifier) / f"resetwal-{stamp}"
            )
            output = self.resetter.reset(data_dir, force=force)
        return ResetReport(database=database, output=output, dry_run=False, evidence=evidence)


def _refuse_if_locked(data_dir: PurePath, lock: LockFile | None) -> None:
    if lock is None:
        return
    if lock.alive:
        raise ServerRunningError(
            f"a server (pid {lock.pid}) is running on {data_dir}: stop it before resetwal"
        )
    raise ServerRunningError(
        f"{data_dir}/postmaster.pid names pid {lock.pid}, which is no server visible from "
        "here (it may run in another container): stop that database service first; if it "
        "is stopped and crashed, delete postmaster.pid yourself and retry"
    )
