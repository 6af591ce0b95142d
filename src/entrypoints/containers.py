"""The composition root: the one place that knows which adapter serves which port."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from dependency_injector import containers, providers

from pg_backup_manager.adapters.archive import PgArchiveChecker
from pg_backup_manager.adapters.clock import SystemClock
from pg_backup_manager.adapters.filesystem import LocalBackupStore
from pg_backup_manager.adapters.heartbeat import FileHeartbeat
from pg_backup_manager.adapters.locks import DirectoryLocks
from pg_backup_manager.adapters.pg_binaries import PgBinaries
from pg_backup_manager.adapters.pg_dump import PgDump
from pg_backup_manager.adapters.pg_resetwal import PgResetWal
from pg_backup_manager.adapters.pg_restore import PgRestore
from pg_backup_manager.adapters.privileges import drop_root
from pg_backup_manager.adapters.psql_server import PsqlServer
from pg_backup_manager.adapters.settings import Settings
from pg_backup_manager.domain.backup import BackupPorts
from pg_backup_manager.domain.restore import RestorePorts


class Container(containers.DeclarativeContainer):
    """Builds the controller's services from the environment it is given.

    ``environ`` and ``cwd`` are required: ``Container(environ=os.environ,
    cwd=Path.cwd())``. Settings are read lazily, so ``--help`` works with no
    configuration, and a bad variable fails the first command that needs it.
    """

    wiring_config = containers.WiringConfiguration(modules=[".cli", ".scheduler"])

    environ = providers.Dependency(instance_of=Mapping)  # type: ignore[type-abstract]
    cwd = providers.Dependency(instance_of=Path)

    settings = providers.Singleton(Settings.from_environ, environ, cwd=cwd)
    config = providers.Callable(lambda settings: settings.config, settings)

    # A function of the user name: becomes that user when running as root.
    drop_root = providers.Object(drop_root)
    clock = providers.Singleton(SystemClock)
    heartbeat = providers.Singleton(FileHeartbeat, path=settings.provided.heartbeat_file)
    store = providers.Singleton(
        LocalBackupStore, layout=config.provided.layout, file_mode=settings.provided.file_mode
    )
    locks = providers.Singleton(
        DirectoryLocks, layout=config.provided.layout, wait_seconds=settings.provided.lock_wait
    )

    binaries = providers.Singleton(
        PgBinaries, root=settings.provided.bin_root, bin_dir=settings.provided.bin_dir
    )
    dumper = providers.Singleton(PgDump, binaries=binaries, timeout=settings.provided.dump_timeout)
    checker = providers.Singleton(
        PgArchiveChecker, binaries=binaries, timeout=settings.provided.dump_timeout
    )
    restorer = providers.Singleton(
        PgRestore, binaries=binaries, timeout=settings.provided.dump_timeout
    )
    server = providers.Singleton(
        PsqlServer, binaries=binaries, timeout=settings.provided.admin_timeout
    )
    resetter = providers.Singleton(
        PgResetWal, binaries=binaries, timeout=settings.provided.admin_timeout
    )

    backup_ports = providers.Singleton(
        BackupPorts,
        clock=clock,
        store=store,
        dumper=dumper,
        checker=checker,
        locks=locks,
        server=server,
    )
    restore_ports = providers.Singleton(RestorePorts, server=server, restorer=restorer)
