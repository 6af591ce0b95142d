"""The composition root: the one place that knows which adapter serves which port,
and which ports each use case gets."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs
from dependency_injector import containers, providers

from pg_backup_manager.adapters.privileges import drop_root
from pg_backup_manager.adapters.settings import Settings


@attrs.frozen
class Deferred:
    """A class (or function) of this package, imported when first called.

    Each command then imports only the adapters and use cases of the services it
    gets: ``list`` and ``--help`` start without the PostgreSQL tools' adapters,
    the notification libraries or the dump's thread pool.
    """

    module: str  # under ``pg_backup_manager``, like ``adapters.clock``
    name: str

    def resolve(self) -> Callable[..., Any]:
        """Return what ``name`` is in ``module``, importing it.

        Raises:
            ImportError, AttributeError: no such module or name.
        """
        module = importlib.import_module(f"pg_backup_manager.{self.module}")
        resolved: Callable[..., Any] = getattr(module, self.name)
        return resolved

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Return what ``name`` returns for these arguments."""
        return self.resolve()(*args, **kwargs)


class Container(containers.DeclarativeContainer):
    """Builds the controller's services from the environment it is given.

    ``environ`` and ``cwd`` are required: ``Container(environ=os.environ,
    cwd=Path.cwd())``. Settings are read lazily, so ``--help`` works with no
    configuration, and a bad variable fails the first command that needs it.
    """

    # Wired once, by ``main`` (which unwires it after the command), not also when built.
    wiring_config = containers.WiringConfiguration(
        modules=[".cli", ".monitoring_cli", ".scheduler"], auto_wire=False
    )

    environ = providers.Dependency(instance_of=Mapping)  # type: ignore[type-abstract]
    cwd = providers.Dependency(instance_of=Path)

    settings = providers.Singleton(Settings.from_environ, environ, cwd=cwd)
    config = providers.Callable(lambda settings: settings.config, settings)
    layout = config.provided.layout

    # A function of the user name: becomes that user when running as root.
    drop_root = providers.Object(drop_root)

    # Time, files and locks.
    clock = providers.Singleton(Deferred("adapters.clock", "SystemClock"))
    schedule = settings.provided.schedule
    heartbeat = providers.Singleton(
        Deferred("adapters.heartbeat", "FileHeartbeat"), path=settings.provided.heartbeat_file
    )
    catalog = providers.Singleton(
        Deferred("adapters.local_store", "LocalBackupCatalog"), layout=layout
    )
    staging = providers.Singleton(
        Deferred("adapters.local_staging", "LocalStaging"),
        layout=layout,
        file_mode=settings.provided.file_mode,
    )
    shared = providers.Singleton(
        Deferred("adapters.local_store", "LocalSharedCopies"),
        layout=layout,
        file_mode=settings.provided.file_mode,
    )
    directories = providers.Singleton(
        Deferred("adapters.local_store", "LocalDirectories"), layout=layout
    )
    monitoring = settings.provided.monitoring
    history = providers.Singleton(
        Deferred("adapters.run_history", "JsonlRunLog"),
        layout=layout,
        file_mode=settings.provided.file_mode,
    )
    run_log = providers.Singleton(
        Deferred("adapters.notifications", "NotifyingRunLog"),
        inner=history,
        notifier=providers.Factory(
            Deferred("adapters.notifications", "AppriseNotifier"),
            urls=monitoring.notify_urls,
            always=monitoring.notify_always,
        ),
    )
    pings = providers.Singleton(
        Deferred("adapters.notifications", "HealthchecksPings"),
        url=monitoring.healthchecks_url,
        per_database=monitoring.healthchecks_urls,
    )
    locks = providers.Singleton(
        Deferred("adapters.locks", "DirectoryLocks"),
        layout=layout,
        wait_seconds=settings.provided.lock_wait,
    )

    # The off-site store (boto3, imported only by the commands that go off-site).
    offsite = providers.Singleton(
        Deferred("adapters.s3_store", "connect"), settings=settings.provided.offsite
    )

    # PostgreSQL's tools.
    binaries = providers.Singleton(
        Deferred("adapters.pg_binaries", "PgBinaries"),
        root=settings.provided.bin_root,
        bin_dir=settings.provided.bin_dir,
    )
    # What `config` shows of them: pg_dump's directory and version.
    client_tools = providers.Singleton(
        Deferred("adapters.pg_binaries", "client_tools"), binaries=binaries
    )
    dumper = providers.Singleton(
        Deferred("adapters.pg_dump", "PgDump"),
        binaries=binaries,
        timeout=settings.provided.dump_timeout,
        compression=settings.provided.compression,
    )
    globals_dumper = providers.Singleton(
        Deferred("adapters.pg_dumpall", "PgDumpAllGlobals"),
        binaries=binaries,
        timeout=settings.provided.dump_timeout,
    )
    globals_reader = providers.Singleton(Deferred("adapters.globals_sql", "GlobalsFileReader"))
    checker = providers.Singleton(
        Deferred("adapters.archive", "PgArchiveChecker"),
        binaries=binaries,
        timeout=settings.provided.dump_timeout,
    )
    restorer = providers.Singleton(
        Deferred("adapters.pg_restore", "PgRestore"),
        binaries=binaries,
        timeout=settings.provided.dump_timeout,
        jobs=settings.provided.restore_jobs,
    )
    server = providers.Singleton(
        Deferred("adapters.psql_server", "PsqlServer"),
        binaries=binaries,
        timeout=settings.provided.admin_timeout,
    )
    resetter = providers.Singleton(
        Deferred("adapters.pg_resetwal", "PgResetWal"),
        binaries=binaries,
        timeout=settings.provided.admin_timeout,
    )

    # The use cases, each with the ports it calls.
    backup_writer = providers.Factory(
        Deferred("domain.dumping", "BackupWriter"),
        clock=clock,
        catalog=catalog,
        staging=staging,
        dumper=dumper,
        globals_dumper=globals_dumper,
        checker=checker,
        server=server,
    )
    take_backups = providers.Factory(
        Deferred("domain.dumping", "TakeBackups"),
        writer=backup_writer,
        shared=shared,
        locks=locks,
        clock=clock,
        run_log=run_log,
        timezone=config.provided.timezone,
        parallelism=config.provided.parallelism,
    )
    prune = providers.Factory(
        Deferred("domain.pruning", "Prune"),
        catalog=catalog,
        locks=locks,
        clock=clock,
        run_log=run_log,
        min_kept=config.provided.min_kept,
    )
    sync = providers.Factory(
        Deferred("domain.offsite", "Sync"),
        catalog=catalog,
        offsite=offsite,
        locks=locks,
        clock=clock,
        run_log=run_log,
    )
    # Sync after each new backup when OFFSITE_URL is set, None otherwise (no boto3 then).
    sync_after_backup = providers.Callable(
        lambda offsite, sync: sync() if offsite is not None else None,
        settings.provided.offsite,
        sync.provider,
    )
    back_up = providers.Factory(
        Deferred("domain.backing_up", "BackUp"),
        take_backups=take_backups,
        sync=sync_after_backup,
    )
    prune_offsite = providers.Factory(
        Deferred("domain.offsite_pruning", "PruneOffsite"),
        offsite=offsite,
        locks=locks,
        clock=clock,
        run_log=run_log,
        min_kept=config.provided.min_kept,
        enabled=providers.Callable(
            lambda offsite: offsite is not None and offsite.retention, settings.provided.offsite
        ),
    )
    # Off-site retention after each run when OFFSITE_URL is set and OFFSITE_RETENTION is not
    # false, None otherwise.
    prune_offsite_after_backup = providers.Callable(
        lambda offsite, prune: prune() if offsite is not None and offsite.retention else None,
        settings.provided.offsite,
        prune_offsite.provider,
    )
    scheduled_run = providers.Factory(
        Deferred("domain.scheduled_run", "ScheduledRun"),
        take_backups=take_backups,
        prune=prune,
        databases=config.provided.databases,
        copy_to_shared=config.provided.copy_to_shared,
        sync=sync_after_backup,
        prune_offsite=prune_offsite_after_backup,
    )
    restore = providers.Factory(
        Deferred("domain.restoring", "Restore"),
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
        Deferred("domain.verifying", "Verify"),
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
        Deferred("domain.status", "Status"),
        catalog=catalog,
        run_log=run_log,
        clock=clock,
        schedule=schedule,
        heartbeat=heartbeat,
        production=config.provided.production,
        max_age=monitoring.max_age,
        offsite=providers.Callable(lambda offsite: offsite is not None, settings.provided.offsite),
    )
    check_health = providers.Factory(
        Deferred("domain.status", "CheckHealth"), status=status, heartbeat=heartbeat
    )
    downloads = providers.Singleton(
        Deferred("adapters.offsite_downloads", "LocalDownloads"), layout=layout, store=offsite
    )
    from_offsite = providers.Factory(
        Deferred("domain.from_offsite", "FromOffsite"),
        offsite=offsite,
        downloads=downloads,
        restore=restore,
        verify=verify,
    )
    reset_wal = providers.Factory(
        Deferred("domain.wal_reset", "ResetWal"),
        resetter=resetter,
        locks=locks,
        clock=clock,
        layout=layout,
    )
