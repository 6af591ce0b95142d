"""The point-in-time recovery part of the composition root: which adapter serves
each PITR port. :class:`~pg_backup_manager.entrypoints.containers.Container` holds
it as ``pitr`` and gives it the settings and the run history (every record goes
through the one Journal); the clock and PostgreSQL's binaries, stateless values,
are built here from the same settings."""

from __future__ import annotations

from dependency_injector import containers, providers

from pg_backup_manager.adapters.settings import Settings
from pg_backup_manager.domain.monitoring.telling import Tell
from pg_backup_manager.domain.ports import RunRecorder
from pg_backup_manager.entrypoints import lazy, lazy_pitr


class PitrContainer(containers.DeclarativeContainer):
    """Builds the PITR services from what :class:`Container` shares with it."""

    settings = providers.Dependency(instance_of=Settings)
    run_log: providers.Dependency[RunRecorder] = providers.Dependency()
    tell: providers.Dependency[Tell] = providers.Dependency()

    clock = providers.Singleton(lazy.SystemClock)
    binaries = providers.Singleton(
        lazy.PgBinaries, root=settings.provided.bin_root, bin_dir=settings.provided.bin_dir
    )

    layout = settings.provided.config.layout
    store = providers.Singleton(
        lazy_pitr.LocalPitrStore, layout=layout, file_mode=settings.provided.file_mode
    )
    staging = providers.Singleton(
        lazy_pitr.LocalBaseStaging, layout=layout, file_mode=settings.provided.file_mode
    )
    # Apart from the dumps' lock: dumps go on during a base backup.
    locks = providers.Singleton(
        lazy_pitr.PitrLocks, layout=layout, wait_seconds=settings.provided.lock_wait
    )
    taker = providers.Singleton(
        lazy_pitr.PgBaseBackup, binaries=binaries, timeout=settings.provided.dump_timeout
    )
    verifier = providers.Singleton(
        lazy_pitr.PgVerifyBackup, binaries=binaries, timeout=settings.provided.dump_timeout
    )

    take_base_backups = providers.Factory(
        lazy_pitr.TakeBaseBackups,
        store=store,
        staging=staging,
        taker=taker,
        verifier=verifier,
        locks=locks,
        clock=clock,
        run_log=run_log,
    )
    list_pitr = providers.Factory(lazy_pitr.ListPitr, store=store)
    # PITR retention: `prune`, and `controller start` after each base backup that counts.
    prune = providers.Factory(
        lazy_pitr.PrunePitr,
        store=store,
        pruner=store,
        locks=locks,
        clock=clock,
        run_log=run_log,
        retention_days=settings.provided.pitr_retention_days,
    )
    take_then_prune = providers.Factory(
        lazy_pitr.PrunedAfterBaseBackup, take=take_base_backups.provided.one, prune=prune
    )

    # The WAL receivers of `controller start`, one supervisor for every service.
    replication = providers.Singleton(
        lazy_pitr.PsqlReplicationServer, binaries=binaries, timeout=settings.provided.admin_timeout
    )
    states = providers.Singleton(
        lazy_pitr.ReceiverStateFiles, layout=layout, file_mode=settings.provided.file_mode
    )
    # What the supervisors write through: each state judged, a receiver down or a slot
    # too full told.
    alerts = providers.Singleton(
        lazy_pitr.ReceiverAlerts,
        states=states,
        run_log=run_log,
        tell=tell,
        clock=clock,
        max_delay=settings.provided.monitoring.wal_max_delay,
        slot_alert_bytes=settings.provided.monitoring.wal_slot_alert_bytes,
    )
    supervisor = providers.Factory(
        lazy_pitr.Supervisor,
        replication=replication,
        store=store,
        archive=providers.Singleton(lazy_pitr.WalDirectories, data_root=layout.data_root),
        receiver=providers.Singleton(lazy_pitr.PgReceiveWal, binaries=binaries),
        states=alerts,
        run_log=run_log,
        clock=clock,
        take_base_backup=take_then_prune,
        next_base_backup=settings.provided.base_backup_schedule.next_after,
    )

    # Recoveries: `recover` and `verify --pitr`.
    writer = providers.Singleton(lazy_pitr.RecoveryWriter, layout=layout, verifier=verifier)
    wal = providers.Singleton(lazy_pitr.PgWalDump, binaries=binaries)
    recover = providers.Factory(
        lazy_pitr.Recover, store=store, writer=writer, wal=wal, run_log=run_log, clock=clock
    )
    verify = providers.Factory(
        lazy_pitr.VerifyPitr,
        store=store,
        scratch=providers.Singleton(lazy_pitr.RecoveryScratch, layout=layout),
        writer=providers.Singleton(
            lazy_pitr.RecoveryWriter, layout=layout, verifier=verifier, scratch=True
        ),
        wal=wal,
        servers=providers.Singleton(lazy_pitr.ScratchServers, binaries=binaries),
        run_log=run_log,
        clock=clock,
        timeout=settings.provided.dump_timeout,
    )

    # What `status`, `health` and /metrics read of each service's WAL archiving.
    status = providers.Factory(
        lazy_pitr.ReadPitrStatus,
        store=store,
        states=states,
        base_schedule=settings.provided.base_backup_schedule,
        max_delay=settings.provided.monitoring.wal_max_delay,
        slot_alert_bytes=settings.provided.monitoring.wal_slot_alert_bytes,
    )
