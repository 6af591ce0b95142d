"""The adapters the container builds, each imported only when it is first built.

Each command then imports only the adapters and use cases of the services it
gets: ``list`` and ``--help`` start without boto3, Apprise, the PostgreSQL tools'
adapters or the dump's thread pool. Each name here is the class (or function) it
stands for, called the same way: ``lazy.PgDump(binaries=..., ...)`` imports
``adapters/postgres/pg_dump.py`` and returns ``PgDump(binaries=..., ...)``. The
imports under ``TYPE_CHECKING`` name, for mypy and a reader's editor, what each
loader returns (so each provider of the container has its real type); the import
inside each loader is the one that runs, and mypy checks that it returns that.
The arguments are not checked statically (mypy cannot carry a class's signature
through a loader, nor dependency-injector's keyword arguments): building every
service in ``unit/test_containers.py`` does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import attrs

if TYPE_CHECKING:
    from collections.abc import Mapping

    from pg_backup_manager.adapters import clock, hooks
    from pg_backup_manager.adapters.monitoring import heartbeat, notifications, run_history
    from pg_backup_manager.adapters.offsite import downloads, store
    from pg_backup_manager.adapters.offsite.settings import OffsiteSettings
    from pg_backup_manager.adapters.postgres import (
        archive,
        globals_sql,
        pg_binaries,
        pg_dump,
        pg_dumpall,
        pg_resetwal,
        pg_restore,
        psql_server,
    )
    from pg_backup_manager.adapters.settings import Settings
    from pg_backup_manager.adapters.storage import local_staging, local_store, locks, server_dirs

T = TypeVar("T")


@attrs.frozen
class Deferred(Generic[T]):
    """``load()``'s result, imported at each call and called with the same arguments.

    Used as a decorator on a function that imports a class (or function) and
    returns it: the decorated name then builds what the class builds.
    """

    load: Callable[[], Callable[..., T]]

    def __call__(self, *args: Any, **kwargs: Any) -> T:
        """Return what the loaded class (or function) returns for these arguments.

        Raises:
            whatever it raises.
        """
        return self.load()(*args, **kwargs)


@Deferred
def SystemClock() -> type[clock.SystemClock]:
    from pg_backup_manager.adapters.clock import SystemClock

    return SystemClock


@Deferred
def command_hooks() -> Callable[[Settings, Mapping[str, str]], hooks.CommandHooks]:
    from pg_backup_manager.adapters.hooks import command_hooks

    return command_hooks


@Deferred
def stopped() -> Callable[[], str | None]:
    from pg_backup_manager.adapters.processes import stopped

    return stopped


@Deferred
def FileHeartbeat() -> type[heartbeat.FileHeartbeat]:
    from pg_backup_manager.adapters.monitoring.heartbeat import FileHeartbeat

    return FileHeartbeat


@Deferred
def LocalDatabaseDirectories() -> type[server_dirs.LocalDatabaseDirectories]:
    from pg_backup_manager.adapters.storage.server_dirs import LocalDatabaseDirectories

    return LocalDatabaseDirectories


@Deferred
def JsonServerListings() -> type[server_dirs.JsonServerListings]:
    from pg_backup_manager.adapters.storage.server_dirs import JsonServerListings

    return JsonServerListings


@Deferred
def AppriseNotifier() -> type[notifications.AppriseNotifier]:
    from pg_backup_manager.adapters.monitoring.notifications import AppriseNotifier

    return AppriseNotifier


@Deferred
def HealthchecksPings() -> type[notifications.HealthchecksPings]:
    from pg_backup_manager.adapters.monitoring.notifications import HealthchecksPings

    return HealthchecksPings


@Deferred
def JsonlRunLog() -> type[run_history.JsonlRunLog]:
    from pg_backup_manager.adapters.monitoring.run_history import JsonlRunLog

    return JsonlRunLog


@Deferred
def LocalDownloads() -> type[downloads.LocalDownloads]:
    from pg_backup_manager.adapters.offsite.downloads import LocalDownloads

    return LocalDownloads


@Deferred
def connect() -> Callable[[OffsiteSettings | None], store.BucketOffsiteStore]:
    from pg_backup_manager.adapters.offsite.connect import connect

    return connect


@Deferred
def PgArchiveChecker() -> type[archive.PgArchiveChecker]:
    from pg_backup_manager.adapters.postgres.archive import PgArchiveChecker

    return PgArchiveChecker


@Deferred
def GlobalsFileReader() -> type[globals_sql.GlobalsFileReader]:
    from pg_backup_manager.adapters.postgres.globals_sql import GlobalsFileReader

    return GlobalsFileReader


@Deferred
def PgBinaries() -> type[pg_binaries.PgBinaries]:
    from pg_backup_manager.adapters.postgres.pg_binaries import PgBinaries

    return PgBinaries


@Deferred
def client_tools() -> Callable[[pg_binaries.PgBinaries], pg_binaries.ClientTools]:
    from pg_backup_manager.adapters.postgres.pg_binaries import client_tools

    return client_tools


@Deferred
def PgDump() -> type[pg_dump.PgDump]:
    from pg_backup_manager.adapters.postgres.pg_dump import PgDump

    return PgDump


@Deferred
def PgDumpAllGlobals() -> type[pg_dumpall.PgDumpAllGlobals]:
    from pg_backup_manager.adapters.postgres.pg_dumpall import PgDumpAllGlobals

    return PgDumpAllGlobals


@Deferred
def PgResetWal() -> type[pg_resetwal.PgResetWal]:
    from pg_backup_manager.adapters.postgres.pg_resetwal import PgResetWal

    return PgResetWal


@Deferred
def PgRestore() -> type[pg_restore.PgRestore]:
    from pg_backup_manager.adapters.postgres.pg_restore import PgRestore

    return PgRestore


@Deferred
def PsqlServer() -> type[psql_server.PsqlServer]:
    from pg_backup_manager.adapters.postgres.psql_server import PsqlServer

    return PsqlServer


@Deferred
def LocalStaging() -> type[local_staging.LocalStaging]:
    from pg_backup_manager.adapters.storage.local_staging import LocalStaging

    return LocalStaging


@Deferred
def LocalBackupCatalog() -> type[local_store.LocalBackupCatalog]:
    from pg_backup_manager.adapters.storage.local_store import LocalBackupCatalog

    return LocalBackupCatalog


@Deferred
def LocalDirectories() -> type[local_store.LocalDirectories]:
    from pg_backup_manager.adapters.storage.local_store import LocalDirectories

    return LocalDirectories


@Deferred
def LocalSharedCopies() -> type[local_store.LocalSharedCopies]:
    from pg_backup_manager.adapters.storage.local_store import LocalSharedCopies

    return LocalSharedCopies


@Deferred
def DirectoryLocks() -> type[locks.DirectoryLocks]:
    from pg_backup_manager.adapters.storage.locks import DirectoryLocks

    return DirectoryLocks
