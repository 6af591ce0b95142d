"""Every database of a server (``<SERVICE>_POSTGRES_DB=*``): which they are, for each
command.

A backup run (``dump``, a scheduled run) asks the server (:func:`listed`) and records
what it found (:class:`ServerListing`), so that the commands that never connect
(``list``, ``prune``, ``status``, ``health``, ``/metrics``) know both the databases it
has and those it no longer has (:func:`known`): what the service's directory holds
(:class:`StoredDatabases`) and what the last run listed. A database dropped keeps its
directory, so it is still listed, pruned and restorable from; one created is found by the
next run. Each is named ``<service>/<database>`` (:mod:`.database_names`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

import attrs

from pg_backup_manager.domain.database_names import is_scratch_name
from pg_backup_manager.domain.errors import ControllerError
from pg_backup_manager.domain.model import Database
from pg_backup_manager.domain.ports import BackupReader, Clock


@attrs.frozen(kw_only=True)
class ServerListing:
    """The databases a run found on a service's server (its exclusions left out), and when."""

    names: frozenset[str]
    listed_at: datetime


class DatabaseLister(Protocol):
    """The server, asked which databases it has."""

    def database_names(self, database: Database) -> list[str]:
        """Return the names of the databases of ``database``'s server that accept
        connections, templates aside.

        Raises:
            ToolError: the server could not be asked.
        """

    def unlisted(self, database: Database, name: str) -> str | None:
        """Return why the server's database ``name`` is not among :meth:`database_names`:
        ``"template"`` (a template) or ``"no connections"`` (``datallowconn`` false);
        None when the server has no database ``name``.

        Raises:
            ToolError: the server could not be asked.
        """


class StoredDatabases(Protocol):
    """The databases of a service that have a directory of their own in a store."""

    def database_names(self, service: str) -> list[str]:
        """Return the names of the databases of ``service`` with a directory of their own
        (:func:`~.database_names.segment`), sorted; none when there is none.

        Raises:
            ControllerError: the service's directory cannot be read.
        """


class ServerListings(Protocol):
    """What each service's last run found on its server."""

    def record(self, service: str, listing: ServerListing) -> None:
        """Keep ``listing`` as the last of ``service``; never raise (a record that cannot be
        written is logged: the run goes on)."""

    def last(self, service: str) -> ServerListing | None:
        """Return the last listing of ``service``; None when there is none (or it cannot
        be read)."""


def listed(
    service: Database, *, server: DatabaseLister, listings: ServerListings, clock: Clock
) -> list[Database]:
    """Return the databases of ``service``'s server to back up now, its exclusions left
    out, and record them as its last listing.

    Raises:
        ControllerError: the server could not be asked, or has no database to back up.
    """
    at = clock.now()
    try:
        found = server.database_names(service)
    except ControllerError as error:
        raise ControllerError(
            f"cannot list the databases of {service.identifier}'s server: {error}"
        ) from None
    # The controller's own temporary databases (a restore or verify that runs, or one
    # a killed run left) are never backed up as the server's.
    names = sorted(name for name in set(found) - service.excluded if not is_scratch_name(name))
    if not names:
        raise ControllerError(
            f"{service.identifier}'s server has no database to back up ({len(found)} found, "
            f"all excluded by {service.excluded_variable or 'its exclusions'})"
        )
    listings.record(service.identifier, ServerListing(names=frozenset(names), listed_at=at))
    return [service.one_of_server(name) for name in names]


def known(
    service: Database,
    *,
    stored: StoredDatabases,
    listings: ServerListings,
    catalog: BackupReader,
) -> list[Database]:
    """Return the databases of ``service`` that this host knows without asking the server:
    those with a directory, and those its last run listed, sorted by name.

    The service itself comes first when its own directory holds backups (made before it
    backed up every database), and stands alone when nothing else is known, so that a
    service whose server was never listed is still seen (and found at fault).
    """
    names = set(stored.database_names(service.identifier))
    last = listings.last(service.identifier)
    if last is not None:
        names |= last.names
    databases = [service.one_of_server(name) for name in sorted(names)]
    if not databases or catalog.backup_names(service.identifier):
        databases.insert(0, service)
    return databases


def on_server(database: Database, listing: ServerListing | None) -> bool | None:
    """Return whether ``database`` of a server was on it at its last listing (None: it is
    no database of a server, or its server was never listed)."""
    if not database.of_server or listing is None:
        return None
    return database.dbname in listing.names
