"""The last resort for a cluster that will not start: ``pg_resetwal``."""

from __future__ import annotations

from pathlib import PurePath

import attrs

from pg_backup_manager.domain.errors import ServerRunningError
from pg_backup_manager.domain.model import Database, Layout
from pg_backup_manager.domain.ports import Clock, LockFile, Locks, WalResetter

NEXT_STEPS = (
    "next: start the server, dump the database at once "
    "('controller dump {identifier}'), then re-create the cluster and restore that dump: "
    "a reset WAL can hide lost or inconsistent data"
)


@attrs.frozen(kw_only=True)
class ResetReport:
    """What ``resetwal`` did (or would do), and what the operator must do next."""

    output: str
    dry_run: bool
    next_steps: str


def reset_wal(
    *,
    database: Database,
    layout: Layout,
    resetter: WalResetter,
    locks: Locks,
    clock: Clock,
    dry_run: bool = False,
    force: bool = False,
) -> ResetReport:
    """Reset the write-ahead log of ``database``'s data directory.

    Refuses while the directory has a server lock (``postmaster.pid``): a live
    server, or one whose process is not visible from here (another container).
    With ``dry_run`` only ``pg_resetwal -n`` runs. Otherwise, before anything
    changes, ``pg_controldata`` and ``pg_resetwal -n`` are recorded and
    ``global/pg_control`` and ``pg_wal`` copied into
    ``<backup dir>/resetwal-<UTC time>/``; ``-f`` is passed only with ``force``.

    Raises:
        ServerRunningError: the directory is locked by a server.
        BusyError: another operation holds the database's lock.
        ControllerError: it is not a data directory, or the tool failed
            (without ``force``, ``pg_resetwal`` refuses a cluster that was not
            shut down cleanly).
    """
    data_dir = layout.database_dir(database.identifier)
    with locks.hold(database.identifier):
        _refuse_if_locked(data_dir, resetter.server_lock(data_dir))
        if dry_run:
            return ResetReport(
                output=resetter.preview(data_dir),
                dry_run=True,
                next_steps="dry run: nothing was changed",
            )
        stamp = clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
        evidence = resetter.preserve(
            data_dir, into=layout.data_dir(database.identifier) / f"resetwal-{stamp}"
        )
        output = resetter.reset(data_dir, force=force)
    return ResetReport(
        output=f"{output.rstrip()}\nsaved pg_control, pg_wal and the tools' reports in {evidence}",
        dry_run=False,
        next_steps=NEXT_STEPS.format(identifier=database.identifier),
    )


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
