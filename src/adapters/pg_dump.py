"""``pg_dump`` behind the Dumper port."""

from __future__ import annotations

from pathlib import PurePath

import attrs

from pg_backup_manager.adapters.libpq import PgClient, conninfo
from pg_backup_manager.adapters.pg_binaries import PgBinaries
from pg_backup_manager.domain.model import Database


@attrs.frozen(kw_only=True)
class PgDump:
    """``pg_dump`` writing custom-format archives straight to their file."""

    binaries: PgBinaries
    timeout: float

    def dump(self, database: Database, target: PurePath) -> None:
        """Write the archive of ``database`` to ``target``; raise ToolError on failure."""
        PgClient(binaries=self.binaries, timeout=self.timeout).run(
            "pg_dump",
            database,
            [
                "--format=custom",
                f"--file={target}",
                f"--dbname={conninfo(database, database.dbname)}",
            ],
            what=f"pg_dump of {database.identifier} ({database.address})",
            capture=False,
        )
