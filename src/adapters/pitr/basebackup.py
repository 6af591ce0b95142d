"""``pg_basebackup``: a plain base backup with its WAL streamed and a SHA-256 manifest,
written into the staging directory it is given."""

from __future__ import annotations

from pathlib import Path, PurePath

import attrs

from pg_backup_manager.adapters.pitr import base_facts, refusals
from pg_backup_manager.adapters.postgres.libpq import PgClient, conninfo
from pg_backup_manager.adapters.postgres.pg_binaries import PgBinaries
from pg_backup_manager.domain.errors import ControllerError, ToolError
from pg_backup_manager.domain.model import Database
from pg_backup_manager.domain.pitr.model import BackupFacts

# Never a synchronous standby: this name is in no synchronous_standby_names.
APPLICATION_NAME = "pg_backup_manager"


_TABLESPACES = (
    "{what} has tablespaces of its own ({names}): base backups of such a server are not "
    "supported (their files would lie outside the backup); the dumps go on"
)


@attrs.frozen(kw_only=True)
class PgBaseBackup:
    """Runs the newest client ``pg_basebackup`` (it speaks to servers of its major and
    older) as the service's user, its password in the environment; ``timeout`` bounds
    it (``BACKUP_TIMEOUT``)."""

    binaries: PgBinaries
    timeout: float

    def take(self, database: Database, into: PurePath, *, label: str) -> BackupFacts:
        """Write a base backup of ``database``'s server into the empty ``into``; return
        what it says about itself (see :func:`base_facts.read`).

        ``-X stream`` makes it whole on its own, from its start to its end LSN, and
        lets ``pg_verifybackup`` parse its WAL; ``--checkpoint=fast`` starts it now
        rather than at the next checkpoint.

        Raises:
            ToolError: pg_basebackup failed; the message ends with its last words.
            ControllerError: what it wrote cannot be read as a base backup.
        """
        # The replication connection ignores dbname; the rest is the dump's conninfo.
        target = f"{conninfo(database, database.dbname)} application_name={APPLICATION_NAME}"
        self._refuse_tablespaces(database)
        try:
            self._run(database, target, into, label)
        except ToolError as error:
            # A refusal says what the server lacks, as the receiver's does.
            if refusals.cause_of(str(error)) is None:
                raise
            raise refusals.refusal(str(error), database, wal_level=lambda: None) from None
        if any(Path(into, "pg_tblspc").iterdir()):  # one made while it ran
            raise ControllerError(_TABLESPACES.format(what=database.address, names="one"))
        return base_facts.read(Path(into), binaries=self.binaries, timeout=self.timeout)

    def _refuse_tablespaces(self, database: Database) -> None:
        """Refuse a server with a tablespace of its own: in plain format its files go to
        the tablespace's own path on the controller's side, outside the base backup,
        and a recovery would lack them.

        Raises:
            ControllerError: the server has one (named).
        """
        names = (
            PgClient(binaries=self.binaries, timeout=self.timeout)
            .run(
                "psql",
                database,
                [
                    "--no-psqlrc",
                    "--tuples-only",
                    "--no-align",
                    "--command=select string_agg(quote_ident(spcname), ', ' order by spcname) "
                    "from pg_tablespace where spcname not in ('pg_default', 'pg_global')",
                    f"--dbname={conninfo(database, database.dbname)}",
                ],
                what=f"psql on {database.address}",
            )
            .strip()
        )
        if names:
            raise ControllerError(_TABLESPACES.format(what=database.address, names=names))

    def _run(self, database: Database, target: str, into: PurePath, label: str) -> None:
        PgClient(binaries=self.binaries, timeout=self.timeout).run(
            "pg_basebackup",
            database,
            [
                "--dbname",
                target,
                "--pgdata",
                str(into),
                "--format=plain",
                "--wal-method=stream",
                "--checkpoint=fast",
                # CRC-32C, the tools' default: pg_verifybackup's check of every file
                # against it costs a tenth of what SHA-256 costs on the same bytes, and
                # is what the check is for (damage, not forgery).
                "--manifest-checksums=CRC32C",
                # The staging commit fsyncs every file once (durable_tree): pg_basebackup
                # need not do it too.
                "--no-sync",
                f"--label={label}",
            ],
            what=f"pg_basebackup of {database.address}",
            capture=False,
        )
