"""The use cases the container builds, each imported only when it is first built (see
:mod:`pg_backup_manager.entrypoints.lazy`, which does the same for the adapters)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pg_backup_manager.entrypoints.lazy import Deferred

if TYPE_CHECKING:
    from pg_backup_manager.domain import targets
    from pg_backup_manager.domain.backups import (
        backup_run,
        dumping,
        listing,
        offsite_steps,
        pruning,
        server_runs,
        writing,
    )
    from pg_backup_manager.domain.monitoring import status, telling
    from pg_backup_manager.domain.offsite import from_offsite, sync
    from pg_backup_manager.domain.offsite import listing as offsite_listing
    from pg_backup_manager.domain.offsite import pruning as offsite_pruning
    from pg_backup_manager.domain.restore import from_shared, restoring, verifying
    from pg_backup_manager.domain.verification import verifying as scheduled
    from pg_backup_manager.domain.wal import reset


@Deferred
def BackupRun() -> type[backup_run.BackupRun]:
    from pg_backup_manager.domain.backups.backup_run import BackupRun

    return BackupRun


@Deferred
def ExpandRun() -> type[server_runs.ExpandRun]:
    from pg_backup_manager.domain.backups.server_runs import ExpandRun

    return ExpandRun


@Deferred
def Targets() -> type[targets.Targets]:
    from pg_backup_manager.domain.targets import Targets

    return Targets


@Deferred
def CopyOffsite() -> type[offsite_steps.CopyOffsite]:
    from pg_backup_manager.domain.backups.offsite_steps import CopyOffsite

    return CopyOffsite


@Deferred
def NoOffsite() -> type[offsite_steps.NoOffsite]:
    from pg_backup_manager.domain.backups.offsite_steps import NoOffsite

    return NoOffsite


@Deferred
def ListBackups() -> type[listing.ListBackups]:
    from pg_backup_manager.domain.backups.listing import ListBackups

    return ListBackups


@Deferred
def ListOffsiteCopies() -> type[offsite_listing.ListOffsiteCopies]:
    from pg_backup_manager.domain.offsite.listing import ListOffsiteCopies

    return ListOffsiteCopies


@Deferred
def Tell() -> type[telling.Tell]:
    from pg_backup_manager.domain.monitoring.telling import Tell

    return Tell


@Deferred
def Journal() -> type[telling.Journal]:
    from pg_backup_manager.domain.monitoring.telling import Journal

    return Journal


@Deferred
def BackupWriter() -> type[writing.BackupWriter]:
    from pg_backup_manager.domain.backups.writing import BackupWriter

    return BackupWriter


@Deferred
def TakeBackups() -> type[dumping.TakeBackups]:
    from pg_backup_manager.domain.backups.dumping import TakeBackups

    return TakeBackups


@Deferred
def Prune() -> type[pruning.Prune]:
    from pg_backup_manager.domain.backups.pruning import Prune

    return Prune


@Deferred
def CheckHealth() -> type[status.CheckHealth]:
    from pg_backup_manager.domain.monitoring.status import CheckHealth

    return CheckHealth


@Deferred
def Status() -> type[status.Status]:
    from pg_backup_manager.domain.monitoring.status import Status

    return Status


@Deferred
def FromOffsite() -> type[from_offsite.FromOffsite]:
    from pg_backup_manager.domain.offsite.from_offsite import FromOffsite

    return FromOffsite


@Deferred
def PruneOffsite() -> type[offsite_pruning.PruneOffsite]:
    from pg_backup_manager.domain.offsite.pruning import PruneOffsite

    return PruneOffsite


@Deferred
def Sync() -> type[sync.Sync]:
    from pg_backup_manager.domain.offsite.sync import Sync

    return Sync


@Deferred
def Restore() -> type[restoring.Restore]:
    from pg_backup_manager.domain.restore.restoring import Restore

    return Restore


@Deferred
def Verify() -> type[verifying.Verify]:
    from pg_backup_manager.domain.restore.verifying import Verify

    return Verify


@Deferred
def ScheduledVerify() -> type[scheduled.ScheduledVerify]:
    from pg_backup_manager.domain.verification.verifying import ScheduledVerify

    return ScheduledVerify


@Deferred
def ResetWal() -> type[reset.ResetWal]:
    from pg_backup_manager.domain.wal.reset import ResetWal

    return ResetWal


@Deferred
def RestoreFromShared() -> type[from_shared.RestoreFromShared]:
    from pg_backup_manager.domain.restore.from_shared import RestoreFromShared

    return RestoreFromShared
