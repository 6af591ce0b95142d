"""``pg_dumpall --globals-only`` behind the GlobalsDumper port."""

from __future__ import annotations

from pathlib import PurePath

import attrs

from pg_backup_manager.adapters.postgres.libpq import PgClient, conninfo, dbname_only
from pg_backup_manager.adapters.postgres.pg_binaries import PgBinaries
from pg_backup_manager.domain.errors import ToolError
from pg_backup_manager.domain.model import Database

# What pg_dumpall says when the user may not read the role passwords.
_NO_AUTHID = "pg_authid"


@attrs.frozen(kw_only=True)
class PgDumpAllGlobals:
    """Writes the cluster's roles, memberships, role settings and tablespaces to a file.

    With passwords when the user may read ``pg_authid`` (a superuser), else
    with ``--no-role-passwords``.
    """

    binaries: PgBinaries
    timeout: float

    def dump_globals(self, database: Database, target: PurePath) -> None:
        """Write ``pg_dumpall --globals-only`` of ``database``'s server to ``target``.

        Raises:
            ToolError: the dump failed.
        """
        try:
            self._run(database, target, [])
        except ToolError as error:
            if _NO_AUTHID not in str(error):
                raise
            self._run(database, target, ["--no-role-passwords"])

    def _run(self, database: Database, target: PurePath, extra: list[str]) -> None:
        # pg_dumpall ignores the database of a connection string: -l names the
        # one to connect to, the database we may surely reach. libpq reads -l's value as
        # a connection string of its own when it holds a "=": a database named
        # "host=elsewhere" (any user who may create databases can make one) would send
        # the password there. So it is always one, holding only the quoted name.
        PgClient(binaries=self.binaries, timeout=self.timeout).run(
            "pg_dumpall",
            database,
            [
                "--globals-only",
                *extra,
                f"--file={target}",
                f"--dbname={conninfo(database, database.dbname)}",
                f"--database={dbname_only(database.dbname)}",
            ],
            what=f"pg_dumpall --globals-only of {database.identifier} ({database.address})",
            capture=False,
            env={"PGCLIENTENCODING": "UTF8"},
        )
