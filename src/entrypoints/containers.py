"""The composition root: the one place that knows which adapter serves which port,
and which ports each use case gets."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from dependency_injector import containers, providers

from pg_backup_manager.adapters.archive import PgArchiveChecker
from pg_backup_manager.adapters.clock import SystemClock
from pg_backup_manager.adapters.globals_sql import GlobalsFileReader
from pg_backup_manager.adapters.heartbeat import FileHeartbeat
from pg_backup_manager.adapters.local_staging import LocalStaging
from pg_backup_manager.adapters.local_store import (
    LocalBackupCatalog,
    LocalDirectories,
    LocalSharedCopies,
)
from pg_backup_manager.adapters.locks import DirectoryLocks
from pg_backup_manager.adapters.notifications import (
    AppriseNotifier,
    HealthchecksPings,
    NotifyingRunLog,
)
from pg_backup_manager.adapters.pg_binaries import PgBinaries
from pg_backup_manager.adapters.pg_dump import PgDump
from pg_backup_manager.adapters.pg_dumpall import PgDumpAllGlobals
from pg_backup_manager.adapters.pg_resetwal import PgResetWal
from pg_backup_manager.adapters.pg_restore import PgRestore
from pg_backup_manager.adapters.privileges import drop_root
from pg_backup_manager.adapters.psql_server import PsqlServer
from pg_backup_manager.adapters.run_history import JsonlRunLog
from pg_backup_manager.adapters.settings import Settings
from pg_backup_manager.domain.dumping import BackupWriter, TakeBackups
from pg_backup_manager.domain.pruning import Prune
from pg_backup_manager.domain.restoring import Restore
from pg_backup_manager.domain.scheduled_run import ScheduledRun
from pg_backup_manager.domain.status import CheckHealth, Status
from pg_backup_manager.domain.verifying import Verify
from pg_backup_manager.domain.wal_reset import ResetWal


class Container(containers.DeclarativeContainer):
    """Builds the controller's services from the environment it is given.

    ``environ`` and ``cwd`` are required: ``Container(environ=os.environ,
    cwd=Path.cwd())``. Settings are read lazily, so ``--help`` works with no
    configuration, and a bad variable fails the first command that needs it.
    """

    wiring_config = containers.WiringConfiguration(
        modules=[".cli", ".monitoring_cli", ".scheduler"]
    )

    environ = providers.Dependency(instance_of=Mapping)  # type: ignore[type-abstract]
    cwd = providers.Dependency(instance_of=Path)

    settings = providers.Singleton(Settings.from_environ, environ, cwd=cwd)
    config = providers.Callable(lambda settings: settings.config, settings)
    layout = config.provided.layout

    # A function of the user name: becomes that user when running as root.
    drop_root = providers.Object(drop_root)

    # Time, files and locks.
    clock = providers.Singleton(SystemClock)
    schedule = settings.provided.schedule
    heartbeat = providers.Singleton(FileHeartbeat, path=settings.provided.heartbeat_file)
    catalog = providers.Singleton(LocalBackupCatalog, layout=layout)
    staging = providers.Singleton(
        LocalStaging, layout=layout, file_mode=settings.provided.file_mode
    )
    shared = providers.Singleton(
        LocalSharedCopies, layout=layout, file_mode=settings.provided.file_mode
    )
    directories = providers.Singleton(LocalDirectories, layout=layout)
    monitoring = settings.provided.monitoring
    history = providers.Singleton(JsonlRunLog, layout=layout, file_mode=settings.provided.file_mode)
    run_log = providers.Singleton(
        NotifyingRunLog,
        inner=history,
        notifier=providers.Factory(
            AppriseNotifier,
            urls=monitoring.notify_urls,
            always=monitoring.notify_always,
        ),
    )
    pings = providers.Singleton(
        HealthchecksPings,
        url=monitoring.healthchecks_url,
        per_database=monitoring.healthchecks_urls,
    )
    locks = providers.Singleton(
        DirectoryLocks, layout=layout, wait_seconds=settings.provided.lock_wait
    )

    # PostgreSQL's tools.
    binaries = providers.Singleton(
        PgBinaries, root=settings.provided.bin_root, bin_dir=settings.provided.bin_dir
    )
    dumper = providers.Singleton(
        PgDump,
        binaries=binaries,
        timeout=settings.provided.dump_timeout,
        compression=settings.provided.compression,
    )
    globals_dumper = providers.Singleton(
        PgDumpAllGlobals, binaries=binaries, timeout=settings.provided.dump_timeout
    )
    globals_reader = providers.Singleton(GlobalsFileReader)
    checker = providers.Singleton(
        PgArchiveChecker, binaries=binaries, timeout=settings.provided.dump_timeout
    )
    restorer = providers.Singleton(
        PgRestore,
        binaries=binaries,
        timeout=settings.provided.dump_timeout,
        jobs=settings.provided.restore_jobs,
    )
    server = providers.Singleton(
        PsqlServer, binaries=binaries, timeout=settings.provided.admin_timeout
    )
    resetter = providers.Singleton(
        PgResetWal, binaries=binaries, timeout=settings.provided.admin_timeout
    )

    # The use cases, each with the ports it calls.
    backup_writer = providers.Factory(
        BackupWriter,
        clock=clock,
        catalog=catalog,
        staging=staging,
        dumper=dumper,
        globals_dumper=globals_dumper,
        checker=checker,
        server=server,
    )
    take_backups = providers.Factory(
        TakeBackups,
        writer=backup_writer,
        shared=shared,
        locks=locks,
        clock=clock,
        run_log=run_log,
        timezone=config.provided.timezone,
        parallelism=config.provided.parallelism,
    )
    prune = providers.Factory(
        Prune,
        catalog=catalog,
        locks=locks,
        clock=clock,
        run_log=run_log,
        min_kept=config.provided.min_kept,
    )
    scheduled_run = providers.Factory(
        ScheduledRun,
        take_backups=take_backups,
        prune=prune,
        databases=config.provided.databases,
        copy_to_shared=config.provided.copy_to_shared,
    )
    restore = providers.Factory(
        Restore,
        catalog=catalog,
        shared=shared,
        checker=checker,
        locks=locks,
        clock=clock,
        server=server,
        properties=server,
        restorer=restorer,
        writer=backup_writer,
        run_log=run_log,
        roles=server,
        globals_reader=globals_reader,
    )
    verify = providers.Factory(
        Verify,
        catalog=catalog,
        checker=checker,
        locks=locks,
        clock=clock,
        server=server,
        restorer=restorer,
        counter=server,
        run_log=run_log,
    )
    status = providers.Factory(
        Status,
        catalog=catalog,
        run_log=run_log,
        clock=clock,
        schedule=schedule,
        heartbeat=heartbeat,
        production=config.provided.production,
        max_age=monitoring.max_age,
    )
    check_health = providers.Factory(CheckHealth, status=status, heartbeat=heartbeat)
    reset_wal = providers.Factory(
        ResetWal, resetter=resetter, locks=locks, clock=clock, layout=layout
    )
