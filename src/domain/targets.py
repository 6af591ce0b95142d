"""The databases a command names: one database, one service of ``DATABASE_LIST``, or all
(``--all``). A service with ``<SERVICE>_POSTGRES_DB=*`` stands for every database of its
server: for a backup, those the server has now (asked by the run); for every other
command, those this host knows (:func:`~.every_database.known`). One of them is named
``<service>/<database>``."""

from __future__ import annotations

import attrs

from pg_backup_manager.domain.errors import (
    ConfigurationError,
    ControllerError,
    UnknownDatabaseError,
)
from pg_backup_manager.domain.every_database import (
    DatabaseLister,
    ServerListings,
    StoredDatabases,
    known,
)
from pg_backup_manager.domain.model import Config, Database
from pg_backup_manager.domain.ports import BackupReader


def services(config: Config, name: str | None, *, all_: bool) -> list[Database]:
    """Return the services of ``DATABASE_LIST`` named (``all_``: every one), as they are
    configured: point-in-time recovery and ``resetwal`` work on servers.

    Raises:
        ConfigurationError: both or neither given, a database of a server named, or an
            unknown service.
    """
    if all_ == (name is not None):
        raise ConfigurationError("give one database name or --all (not both)")
    if all_:
        return list(config.databases)
    target = config.database(name or "")
    if target.of_server:
        raise ConfigurationError(
            f"'{target.identifier}' is one database of {target.service}'s server: this "
            f"command works on the server, name it '{target.service}'"
        )
    return [target]


@attrs.frozen(kw_only=True)
class Targets:
    """Turns what a command names into databases. ``stored`` are the databases with
    backups here (``shared``: with a shared copy); only :meth:`to_dump` asks a server."""

    config: Config
    catalog: BackupReader
    stored: StoredDatabases
    shared: StoredDatabases
    listings: ServerListings

    def services(self, name: str | None, *, all_: bool) -> list[Database]:
        """Return :func:`services` of the configuration."""
        return services(self.config, name, all_=all_)

    def named(
        self,
        name: str | None,
        *,
        all_: bool,
        checked: bool = True,
        shared: bool = False,
        offsite: StoredDatabases | None = None,
    ) -> list[Database]:
        """Return the databases named: a service with every database stands for those
        this host knows (with ``shared``: those with a shared copy; with ``offsite``,
        those the off-site store has too); ``<service>/<name>`` must be one of them
        (off-site: known here or with copies off-site) unless not ``checked``.

        Raises:
            ConfigurationError: as :meth:`services`, or an unknown database.
            ControllerError: the off-site store cannot be read.
        """
        if all_ == (name is not None):
            raise ConfigurationError("give one database name or --all (not both)")
        chosen = self.config.databases if all_ else (self.config.database(name or ""),)
        found: list[Database] = []
        for target in chosen:
            if target.of_server and checked:
                self._check_known(target, shared=shared, offsite=offsite)
            if not target.every_database:
                found.append(target)
            else:
                found += self._known(target, shared=shared, offsite=offsite)
        return found

    def count(self) -> int:
        """Return how many databases a run of every service backs up, as known now (each
        service alone when its directory cannot be read: the run will say why)."""
        try:
            return len(self.named(None, all_=True))
        except ControllerError:
            return len(self.config.databases)

    def one(
        self,
        name: str,
        *,
        checked: bool = True,
        shared: bool = False,
        offsite: StoredDatabases | None = None,
    ) -> Database:
        """Return the one database ``name`` names, for a command that replaces or reads one
        database (``restore``, ``verify`` of one backup; ``offsite``: of an off-site copy).

        Raises:
            ConfigurationError: as :meth:`named`, or ``name`` is a service with every
                database, which names no one database.
        """
        target = self.config.database(name)
        if target.every_database:
            raise ConfigurationError(
                f"'{name}' backs up every database of its server: name one, as "
                f"'{name}/<database>' (see 'controller list {name}')"
            )
        if target.of_server and checked:
            self._check_known(target, shared=shared, offsite=offsite)
        return target

    def to_dump(self, name: str | None, *, all_: bool, server: DatabaseLister) -> list[Database]:
        """Return what ``dump`` backs up: services (a run lists a server's databases
        itself), or one database of a server, which must be on it and not excluded.

        Raises:
            ConfigurationError: as :meth:`named`, or the database is excluded or not on
                its server.
            ControllerError: its server could not be asked.
        """
        if all_ or name is None:
            return services(self.config, name, all_=all_)
        target = self.config.database(name)
        if not target.of_server:
            return [target]
        service = self.config.database(target.service)
        if target.dbname in service.excluded:
            raise ConfigurationError(
                f"'{target.identifier}' is excluded by {service.excluded_variable}: it is "
                "never backed up"
            )
        on_server = server.database_names(service)
        why = None if target.dbname in on_server else server.unlisted(service, target.dbname)
        if why is not None:
            what = "is a template" if why == "template" else "does not accept connections"
            raise ConfigurationError(
                f"'{target.identifier}' {what} on {service.identifier}'s server: a service "
                "of every database ('*') never backs it up"
            )
        if target.dbname not in on_server:
            raise UnknownDatabaseError(
                f"unknown database '{target.identifier}': {service.identifier}'s server has "
                f"no database {target.dbname!r} ({len(on_server)} found; see "
                f"'controller list {service.identifier}')"
            )
        return [target]

    def checked(self, name: str) -> Database:
        """Return the database or service ``name`` names, as :meth:`named` checks it.

        Raises:
            ConfigurationError: as :meth:`named`.
        """
        target = self.config.database(name)
        if target.of_server:
            self._check_known(target, shared=False)
        return target

    def _known(
        self, service: Database, *, shared: bool, offsite: StoredDatabases | None = None
    ) -> list[Database]:
        stored = self.shared if shared else self.stored
        found = known(
            service,
            stored=stored if offsite is None else _Either(first=stored, second=offsite),
            listings=self.listings,
            catalog=self.catalog,
        )
        # A shared copy is restored: never into the service itself (it has no database).
        return [one for one in found if not one.every_database] if shared else found

    def _check_known(
        self, target: Database, *, shared: bool, offsite: StoredDatabases | None = None
    ) -> None:
        service = self.config.database(target.service)
        found = self._known(service, shared=shared, offsite=offsite)
        if all(other.identifier != target.identifier for other in found):
            where = "no shared copy of it here" if shared else "no backups of it here"
            if offsite is not None:
                where += " nor off-site (OFFSITE_URL)"
            raise UnknownDatabaseError(
                f"unknown database '{target.identifier}': {where}, and "
                f"{service.identifier}'s last run did not find it on its server (see "
                f"'controller list {service.identifier}'; 'controller dump "
                f"{target.identifier}' asks the server)"
            )


@attrs.frozen(kw_only=True)
class _Either:
    """The databases with a directory in either store (here, and off-site)."""

    first: StoredDatabases
    second: StoredDatabases

    def database_names(self, service: str) -> list[str]:
        names = {*self.first.database_names(service), *self.second.database_names(service)}
        return sorted(names)
