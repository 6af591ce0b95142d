"""The point-in-time recovery adapters and use cases the container builds, each
imported only when it is first built (see :mod:`pg_backup_manager.entrypoints.lazy`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pg_backup_manager.entrypoints.lazy import Deferred

if TYPE_CHECKING:
    from pg_backup_manager.adapters.pitr import (
        base_staging,
        basebackup,
        pitr_lock,
        receiver,
        receiver_states,
        replication,
        streams,
        verifybackup,
        wal_archive,
    )
    from pg_backup_manager.adapters.pitr.recovery import (
        scratch_dirs,
        scratch_server,
        waldump,
        writer,
    )
    from pg_backup_manager.domain.monitoring import pitr_status, receiver_alerts
    from pg_backup_manager.domain.pitr import basebackup as taking
    from pg_backup_manager.domain.pitr import listing, pruning, receiving
    from pg_backup_manager.domain.pitr.recovery import recovering, verifying


@Deferred
def LocalPitrStore() -> type[streams.LocalPitrStore]:
    from pg_backup_manager.adapters.pitr.streams import LocalPitrStore

    return LocalPitrStore


@Deferred
def LocalBaseStaging() -> type[base_staging.LocalBaseStaging]:
    from pg_backup_manager.adapters.pitr.base_staging import LocalBaseStaging

    return LocalBaseStaging


@Deferred
def PitrLocks() -> type[pitr_lock.PitrLocks]:
    from pg_backup_manager.adapters.pitr.pitr_lock import PitrLocks

    return PitrLocks


@Deferred
def PgBaseBackup() -> type[basebackup.PgBaseBackup]:
    from pg_backup_manager.adapters.pitr.basebackup import PgBaseBackup

    return PgBaseBackup


@Deferred
def PgVerifyBackup() -> type[verifybackup.PgVerifyBackup]:
    from pg_backup_manager.adapters.pitr.verifybackup import PgVerifyBackup

    return PgVerifyBackup


@Deferred
def TakeBaseBackups() -> type[taking.TakeBaseBackups]:
    from pg_backup_manager.domain.pitr.basebackup import TakeBaseBackups

    return TakeBaseBackups


@Deferred
def ListPitr() -> type[listing.ListPitr]:
    from pg_backup_manager.domain.pitr.listing import ListPitr

    return ListPitr


@Deferred
def PsqlReplicationServer() -> type[replication.PsqlReplicationServer]:
    from pg_backup_manager.adapters.pitr.replication import PsqlReplicationServer

    return PsqlReplicationServer


@Deferred
def PgReceiveWal() -> type[receiver.PgReceiveWal]:
    from pg_backup_manager.adapters.pitr.receiver import PgReceiveWal

    return PgReceiveWal


@Deferred
def WalDirectories() -> type[wal_archive.WalDirectories]:
    from pg_backup_manager.adapters.pitr.wal_archive import WalDirectories

    return WalDirectories


@Deferred
def ReceiverStateFiles() -> type[receiver_states.ReceiverStateFiles]:
    from pg_backup_manager.adapters.pitr.receiver_states import ReceiverStateFiles

    return ReceiverStateFiles


@Deferred
def Supervisor() -> type[receiving.Supervisor]:
    from pg_backup_manager.domain.pitr.receiving import Supervisor

    return Supervisor


@Deferred
def RecoveryWriter() -> type[writer.RecoveryWriter]:
    from pg_backup_manager.adapters.pitr.recovery.writer import RecoveryWriter

    return RecoveryWriter


@Deferred
def RecoveryScratch() -> type[scratch_dirs.RecoveryScratch]:
    from pg_backup_manager.adapters.pitr.recovery.scratch_dirs import RecoveryScratch

    return RecoveryScratch


@Deferred
def PgWalDump() -> type[waldump.PgWalDump]:
    from pg_backup_manager.adapters.pitr.recovery.waldump import PgWalDump

    return PgWalDump


@Deferred
def ScratchServers() -> type[scratch_server.ScratchServers]:
    from pg_backup_manager.adapters.pitr.recovery.scratch_server import ScratchServers

    return ScratchServers


@Deferred
def Recover() -> type[recovering.Recover]:
    from pg_backup_manager.domain.pitr.recovery.recovering import Recover

    return Recover


@Deferred
def VerifyPitr() -> type[verifying.VerifyPitr]:
    from pg_backup_manager.domain.pitr.recovery.verifying import VerifyPitr

    return VerifyPitr


@Deferred
def PrunePitr() -> type[pruning.PrunePitr]:
    from pg_backup_manager.domain.pitr.pruning import PrunePitr

    return PrunePitr


@Deferred
def PrunedAfterBaseBackup() -> type[pruning.PrunedAfterBaseBackup]:
    from pg_backup_manager.domain.pitr.pruning import PrunedAfterBaseBackup

    return PrunedAfterBaseBackup


@Deferred
def ReceiverAlerts() -> type[receiver_alerts.ReceiverAlerts]:
    from pg_backup_manager.domain.monitoring.receiver_alerts import ReceiverAlerts

    return ReceiverAlerts


@Deferred
def ReadPitrStatus() -> type[pitr_status.ReadPitrStatus]:
    from pg_backup_manager.domain.monitoring.pitr_status import ReadPitrStatus

    return ReadPitrStatus
