"""The composition root: the one place that knows which adapter serves which port,
and which ports each use case gets."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from dependency_injector import containers, providers

from pg_backup_manager.adapters.privileges import drop_root
from pg_backup_manager.adapters.settings import Settings
from pg_backup_manager.domain.offsite.use import OffsiteUse
from pg_backup_manager.entrypoints import lazy, lazy_use_cases, pitr_container, servers_container


class Container(containers.DeclarativeContainer):
    """Builds the controller's services from the environment it is given.

    Each class comes from :mod:`.lazy` (adapters) or :mod:`.lazy_use_cases`, which
    import it when it is first built: a command imports only what it uses.

    ``environ`` and ``cwd`` are required: ``Container(environ=os.environ,
    cwd=Path.cwd())``. Settings are read lazily, so ``--help`` works with no
    configuration, and a bad variable fails the first command that needs it.
    """

    # Wired once, by ``main`` (which unwires it after the command), not also when built.
    wiring_config = containers.WiringConfiguration(
        modules=[".cli", ".monitoring_cli", ".restore_cli", ".pitr_cli", ".scheduler"],
        auto_wire=False,
    )

    environ = providers.Dependency(instance_of=Mapping)  # type: ignore[type-abstract]
    cwd = providers.Dependency(instance_of=Path)

    settings = providers.Singleton(Settings.from_environ, environ, cwd=cwd)
    config = providers.Callable(lambda settings: settings.config, settings)
    layout = config.provided.layout
    file_mode = settings.provided.file_mode
    dump_timeout = settings.provided.dump_timeout

    # A function of the user name: becomes that user when running as root.
    drop_root = providers.Object(drop_root)

    # Time, files and locks.
    clock = providers.Singleton(lazy.SystemClock)
    schedules = settings.provided.schedules
    heartbeat = providers.Singleton(lazy.FileHeartbeat, path=settings.provided.heartbeat_file)
    catalog = providers.Singleton(lazy.LocalBackupCatalog, layout=layout)
    staging = providers.Singleton(lazy.LocalStaging, layout=layout, file_mode=file_mode)
    shared = providers.Singleton(lazy.LocalSharedCopies, layout=layout, file_mode=file_mode)
    directories = providers.Singleton(lazy.LocalDirectories, layout=layout)
    monitoring = settings.provided.monitoring
    # The run history: written by every operation, read by `status`, `health`, /metrics.
    history = providers.Singleton(lazy.JsonlRunLog, layout=layout, file_mode=file_mode)
    # Telling people: a notification of each operation, pings of each scheduled run.
    notifier = providers.Factory(
        lazy.AppriseNotifier, urls=monitoring.notify_urls, always=monitoring.notify_always
    )
    pings = providers.Singleton(
        lazy.HealthchecksPings,
        url=monitoring.healthchecks_url,
        per_database=monitoring.healthchecks_urls,
    )
    tell = providers.Singleton(lazy_use_cases.Tell, notifier=notifier, pings=pings)
    # What every use case records through: the history, then tell.
    run_log = providers.Singleton(lazy_use_cases.Journal, history=history, tell=tell)
    locks = providers.Singleton(
        lazy.DirectoryLocks, layout=layout, wait_seconds=settings.provided.lock_wait
    )

    # Is off-site on, and is its retention: decided once, here, for every use case.
    offsite_use = providers.Callable(OffsiteUse.of, settings.provided.offsite)
    # The off-site store (S3 or a directory; boto3 only for commands that go to S3).
    offsite = providers.Singleton(lazy.connect, settings=settings.provided.offsite)

    # PostgreSQL's tools.
    binaries = providers.Singleton(
        lazy.PgBinaries, root=settings.provided.bin_root, bin_dir=settings.provided.bin_dir
    )
    # What `config` shows of them: pg_dump's directory and version.
    client_tools = providers.Singleton(lazy.client_tools, binaries=binaries)
    dumper = providers.Singleton(
        lazy.PgDump,
        binaries=binaries,
        timeout=dump_timeout,
        compression=settings.provided.compression,
    )
    globals_dumper = providers.Singleton(
        lazy.PgDumpAllGlobals, binaries=binaries, timeout=dump_timeout
    )
    globals_reader = providers.Singleton(lazy.GlobalsFileReader)
    checker = providers.Singleton(lazy.PgArchiveChecker, binaries=binaries, timeout=dump_timeout)
    restorer = providers.Singleton(
        lazy.PgRestore, binaries=binaries, timeout=dump_timeout, jobs=settings.provided.restore_jobs
    )
    server = providers.Singleton(
        lazy.PsqlServer, binaries=binaries, timeout=settings.provided.admin_timeout
    )
    resetter = providers.Singleton(
        lazy.PgResetWal, binaries=binaries, timeout=settings.provided.admin_timeout
    )
    # Every database of a server (<SERVICE>_POSTGRES_DB=*): what commands name, runs back up.
    servers = providers.Container(
        servers_container.ServersContainer, settings=settings, catalog=catalog, server=server
    )

    # The use cases, each with the ports it calls.
    backup_writer = providers.Factory(
        lazy_use_cases.BackupWriter,
        clock=clock,
        catalog=catalog,
        staging=staging,
        dumper=dumper,
        globals_dumper=globals_dumper,
        checker=checker,
        server=server,
    )
    take_backups = providers.Factory(
        lazy_use_cases.TakeBackups,
        writer=backup_writer,
        shared=shared,
        locks=locks,
        clock=clock,
        run_log=run_log,
        timezone=config.provided.timezone,
        parallelism=config.provided.parallelism,
        globals_files=staging,
        hooks=providers.Factory(lazy.command_hooks, settings=settings, environ=environ),
        stopping=providers.Object(lazy.stopped),
    )
    prune = providers.Factory(
        lazy_use_cases.Prune,
        catalog=catalog,
        locks=locks,
        clock=clock,
        run_log=run_log,
        policy=settings.provided.retention.local,
    )
    sync = providers.Factory(
        lazy_use_cases.Sync,
        catalog=catalog,
        offsite=offsite,
        locks=locks,
        clock=clock,
        run_log=run_log,
    )
    prune_offsite = providers.Factory(
        lazy_use_cases.PruneOffsite,
        offsite=offsite,
        locks=locks,
        clock=clock,
        run_log=run_log,
        policy=settings.provided.retention.offsite,
        enabled=offsite_use.provided.retention,
    )
    copy_offsite = providers.Factory(
        lazy_use_cases.CopyOffsite,
        sync=sync,
        prune_offsite=prune_offsite,
        retention=offsite_use.provided.retention,
    )
    # What a backup run does off-site: nothing without OFFSITE_URL (then no boto3).
    run_offsite = providers.Selector(
        offsite_use.provided.value,
        off=providers.Factory(lazy_use_cases.NoOffsite),
        copy=copy_offsite,
        copy_and_prune=copy_offsite,
    )
    # `dump`, each scheduled run and BACKUP_ON_START: take, upload, prune, record, tell.
    backup_run = providers.Factory(
        lazy_use_cases.BackupRun,
        expand=servers.expand_run,
        take_backups=take_backups,
        offsite=run_offsite,
        prune=prune,
        tell=tell,
    )
    list_backups = providers.Factory(lazy_use_cases.ListBackups, catalog=catalog, layout=layout)
    list_offsite = providers.Factory(lazy_use_cases.ListOffsiteCopies, offsite=offsite)
    restore = providers.Factory(
        lazy_use_cases.Restore,
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
    restore_from_shared = providers.Factory(lazy_use_cases.RestoreFromShared, restore=restore)
    verify = providers.Factory(
        lazy_use_cases.Verify,
        catalog=catalog,
        checker=checker,
        locks=locks,
        clock=clock,
        server=server,
        restorer=restorer,
        counter=server,
        run_log=run_log,
    )
    pitr = providers.Container(
        pitr_container.PitrContainer, settings=settings, run_log=run_log, tell=tell
    )
    status = providers.Factory(
        lazy_use_cases.Status,
        catalog=catalog,
        history=history,
        clock=clock,
        schedules=schedules,
        heartbeat=heartbeat,
        production=config.provided.production,
        max_ages=monitoring.max_ages,
        offsite=offsite_use.provided.on,
        pitr=pitr.status,
        stored=servers.stored,
        listings=servers.listings,
        verification=settings.provided.verification,
    )
    check_health = providers.Factory(lazy_use_cases.CheckHealth, status=status, heartbeat=heartbeat)
    downloads = providers.Singleton(lazy.LocalDownloads, layout=layout, store=offsite)
    # A restore or verify of one downloaded copy: the local use case over its catalog.
    from_offsite = providers.Factory(
        lazy_use_cases.FromOffsite,
        offsite=offsite,
        downloads=downloads,
        restore=restore.provider,
        verify=verify.provider,
    )
    # Restore tests on VERIFY_SCHEDULE: `start` builds them only when it is set.
    scheduled_verify = providers.Factory(
        lazy_use_cases.ScheduledVerify,
        catalog=catalog,
        verify=verify,
        from_offsite=from_offsite.provider,
        history=history,
        run_log=run_log,
        clock=clock,
        asked=settings.provided.verification,
    )
    reset_wal = providers.Factory(
        lazy_use_cases.ResetWal, resetter=resetter, locks=locks, clock=clock, layout=layout
    )
