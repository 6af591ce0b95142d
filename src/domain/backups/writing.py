"""One new backup of a database, written, checked and checksummed, with the cluster's
globals beside it (:class:`BackupWriter`), for ``dump``, scheduled runs and a restore's
safety dump."""

from __future__ import annotations

from datetime import datetime, timedelta

import attrs

from pg_backup_manager.domain.backups.ports import (
    ArchiveChecker,
    Dumper,
    GlobalsDumper,
    Staging,
)
from pg_backup_manager.domain.errors import ToolError
from pg_backup_manager.domain.model import Database
from pg_backup_manager.domain.names import Backup, BackupName, Tier
from pg_backup_manager.domain.ports import BackupReader, Clock
from pg_backup_manager.domain.restore.ports import ServerDatabases
from pg_backup_manager.domain.restore.recovery import explain_a_missing_target


@attrs.frozen(kw_only=True)
class BackupWriter:
    """Writes one new backup of a database; its caller holds the database's lock.

    The archive counts only once ``pg_restore`` has read all of it and its
    SHA-256 is recorded. The cluster's globals are saved beside it, so that it
    can be restored onto a server that lacks its roles.
    """

    clock: Clock
    catalog: BackupReader
    staging: Staging
    dumper: Dumper
    globals_dumper: GlobalsDumper
    checker: ArchiveChecker
    server: ServerDatabases

    def write(self, database: Database, tier: Tier, *, whole: bool = False) -> Backup:
        """Dump ``database`` into a new backup of ``tier``; return it.

        The backup leaves out what the database's dump options leave out, and says so
        (it is partial), unless ``whole``: a restore's safety dump saves everything.

        Raises:
            ControllerError: the dump or its check failed (a target that a killed
                restore left aside is named); no backup was made.
        """
        # Names only: their sizes would cost a stat of every backup in the directory.
        taken = {name.taken_at for name in self.catalog.backup_names(database.identifier)}
        name = BackupName.for_run(tier=tier, at=_free_second(self.clock.now(), taken))
        if whole:
            database = attrs.evolve(database, dump_options=database.dump_options.whole())
        with self.staging.begin(database.identifier, name) as draft:
            try:
                self.dumper.dump(database, draft.path)
                # After the dump: its errors say most about a server that refuses us.
                self.globals_dumper.dump_globals(database, draft.globals_path)
            except ToolError:
                explain_a_missing_target(database=database, server=self.server)
                raise
            checksum = self.checker.check(draft.path)
            made_by = self.checker.made_by(draft.path)
            backup = draft.commit(
                checksum,
                self.checker.digest(draft.globals_path),
                left_out=database.dump_options.left_out,
            )
        return attrs.evolve(
            backup,
            sha256=checksum,
            pg_dump_version=made_by.pg_dump,
            server_version=made_by.server,
        )


def _free_second(at: datetime, taken: set[datetime]) -> datetime:
    """Return ``at`` to the second, moved on past the times already taken.

    Two runs in one second (a manual dump right after a scheduled one) would
    otherwise collide; one backup per second and database keeps names unique.
    """
    at = at.replace(microsecond=0)
    while at in taken:
        at += timedelta(seconds=1)
    return at
