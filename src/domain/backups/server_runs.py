"""What a backup run does for the services that back up every database of their server
(``<SERVICE>_POSTGRES_DB=*``): it asks each server which databases it has now
(:func:`~pg_backup_manager.domain.every_database.listed`) and backs each up as a database
of its own (:class:`ExpandRun`), and it dumps each server's globals once, however many of
its databases it backs up, each backup keeping its own copy beside it
(:class:`GlobalsOfRun`), so that each restores alone, as any other backup does.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import PurePath
from typing import Protocol

import attrs

from pg_backup_manager.domain.backups.ports import GlobalsDumper
from pg_backup_manager.domain.errors import ControllerError
from pg_backup_manager.domain.every_database import (
    DatabaseLister,
    ServerListings,
    StoredDatabases,
    known,
    listed,
)
from pg_backup_manager.domain.model import Database
from pg_backup_manager.domain.ports import BackupReader, Clock


@attrs.frozen(kw_only=True)
class RunTargets:
    """What a run backs up (``databases``), the databases of each server that could not
    be listed, with why (``unlisted``: each fails this run), and those that have backups
    here but are no longer on their server, or are excluded (``gone``: retention only)."""

    databases: tuple[Database, ...]
    unlisted: tuple[tuple[Database, ControllerError], ...] = ()
    gone: tuple[Database, ...] = ()


@attrs.frozen(kw_only=True)
class ExpandRun:
    """Turns the services of a run into the databases it backs up, asking each server
    with every database which it has now (and recording the answer)."""

    server: DatabaseLister
    listings: ServerListings
    stored: StoredDatabases
    catalog: BackupReader
    clock: Clock

    def __call__(self, databases: Sequence[Database]) -> RunTargets:
        """Return what a run of ``databases`` backs up; never raise: a server that cannot
        be listed fails each database this host knows of it (see :func:`.known`)."""
        dump: list[Database] = []
        unlisted: list[tuple[Database, ControllerError]] = []
        gone: list[Database] = []
        for database in databases:
            if not database.every_database:
                dump.append(database)
                continue
            try:
                found = listed(
                    database, server=self.server, listings=self.listings, clock=self.clock
                )
            except ControllerError as error:
                unlisted += [(known_one, error) for known_one in self._known(database)]
                continue
            dump += found
            names = {one.identifier for one in found}
            gone += [one for one in self._known(database) if one.identifier not in names]
        return RunTargets(databases=tuple(dump), unlisted=tuple(unlisted), gone=tuple(gone))

    def _known(self, service: Database) -> list[Database]:
        return known(service, stored=self.stored, listings=self.listings, catalog=self.catalog)


class GlobalsFiles(Protocol):
    """Where a run keeps the globals of each server once, for its backups to copy."""

    def run_file(self, service: str) -> AbstractContextManager[PurePath]:
        """Return a new file, only this user's, for the globals of ``service``'s server
        in this run; it is removed when the ``with`` block ends.

        Raises:
            ControllerError: it cannot be made.
        """

    def copy(self, source: PurePath, target: PurePath) -> None:
        """Make the file ``target`` (a new backup's globals) hold what ``source`` holds.

        Raises:
            ControllerError: it cannot.
        """


@attrs.define
class GlobalsOfRun:
    """The globals of one run (a :class:`GlobalsDumper` for its backups): a database of a
    server gets a copy of its server's globals, dumped by the first of its databases that
    asks, once per run; a failed dump fails each of them with the same error. Any other
    database has its own dumped, as ever. Safe from the run's threads."""

    dumper: GlobalsDumper
    files: GlobalsFiles
    stack: contextlib.ExitStack[bool | None]
    _dumped: dict[str, PurePath | ControllerError] = attrs.field(factory=dict, init=False)
    _lock: threading.Lock = attrs.field(factory=threading.Lock, init=False)

    def dump_globals(self, database: Database, target: PurePath) -> None:
        """Write the globals of ``database``'s server to ``target``.

        Raises:
            ControllerError: they could not be dumped (this run), or copied.
        """
        if not database.of_server:
            self.dumper.dump_globals(database, target)
            return
        with self._lock:  # one dump per server; they take a fraction of a second
            found = self._dumped.get(database.service)
            if found is None:
                found = self._dump(database)
                self._dumped[database.service] = found
        if isinstance(found, ControllerError):
            raise type(found)(str(found))
        self.files.copy(found, target)

    def _dump(self, database: Database) -> PurePath | ControllerError:
        try:
            path = self.stack.enter_context(self.files.run_file(database.service))
            self.dumper.dump_globals(database, path)
        except ControllerError as error:
            return error
        return path
