"""The part of the composition root for services that back up every database of their
server (``<SERVICE>_POSTGRES_DB=*``): their databases' directories, each server's last
listing, what a command names and what a run backs up.
:class:`~pg_backup_manager.entrypoints.containers.Container` holds it as ``servers`` and
gives it the settings, the backups and the server (``psql``); the clock, a stateless
value, is built here."""

from __future__ import annotations

from dependency_injector import containers, providers

from pg_backup_manager.adapters.settings import Settings
from pg_backup_manager.domain.every_database import DatabaseLister
from pg_backup_manager.domain.ports import BackupReader
from pg_backup_manager.entrypoints import lazy, lazy_use_cases


class ServersContainer(containers.DeclarativeContainer):
    """Builds the services of every database of a server from what :class:`Container`
    shares with it."""

    settings = providers.Dependency(instance_of=Settings)
    catalog: providers.Dependency[BackupReader] = providers.Dependency()
    server: providers.Dependency[DatabaseLister] = providers.Dependency()

    clock = providers.Singleton(lazy.SystemClock)

    layout = settings.provided.config.layout
    stored = providers.Singleton(lazy.LocalDatabaseDirectories, root=layout.data_root)
    shared = providers.Singleton(lazy.LocalDatabaseDirectories, root=layout.shared_root)
    listings = providers.Singleton(
        lazy.JsonServerListings, data_root=layout.data_root, file_mode=settings.provided.file_mode
    )
    # What a command names: a database, a service (with *: each of its databases), --all.
    targets = providers.Factory(
        lazy_use_cases.Targets,
        config=settings.provided.config,
        catalog=catalog,
        stored=stored,
        shared=shared,
        listings=listings,
    )
    # What a backup run backs up: each server asked for its databases as the run starts.
    expand_run = providers.Factory(
        lazy_use_cases.ExpandRun,
        server=server,
        listings=listings,
        stored=stored,
        catalog=catalog,
        clock=clock,
    )
