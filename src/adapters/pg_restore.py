"""``pg_restore`` behind the Restorer port: into an existing, empty database, stopping
at the first error."""

from __future__ import annotations

import re
import subprocess
from pathlib import PurePath

import attrs

from pg_backup_manager.adapters import processes
from pg_backup_manager.adapters.libpq import PgClient, conninfo, with_hint
from pg_backup_manager.adapters.pg_binaries import PgBinaries, command, tools_major
from pg_backup_manager.domain.errors import ToolError
from pg_backup_manager.domain.model import Database

# pg_restore 17 always starts with this, and servers before 17 reject it.
_NEW_IN_17 = "SET transaction_timeout = 0;"


@attrs.frozen(kw_only=True)
class PgRestore:
    """Restores with ``pg_restore --exit-on-error`` straight into the server.

    With ``jobs`` above 1, ``pg_restore --jobs`` loads tables and builds indexes in
    parallel. Into a server older than the tools (the image's 17 into a 15), pg_restore
    writes a setting the server does not know. There the archive goes through
    ``pg_restore -f - | sed | psql -v ON_ERROR_STOP=1`` instead, with that one
    line left out: the same statements, still stopping at the first error.
    """

    binaries: PgBinaries
    timeout: float
    jobs: int = 1

    def restore(self, database: Database, *, into: str, archive: PurePath, owners: bool) -> None:
        """Load ``archive`` into database ``into``; raise ToolError on any error."""
        options = [] if owners else ["--no-owner", "--no-privileges"]
        what = f"pg_restore of {archive.name} into {database.identifier}"
        client = PgClient(binaries=self.binaries, timeout=self.timeout)
        tools = tools_major(str(self.binaries.client("pg_restore")))
        if self._server_major(client, database, into) >= 17 or tools < 17:
            jobs = [f"--jobs={self.jobs}"] if self.jobs > 1 else []
            client.run(
                "pg_restore",
                database,
                [
                    "--exit-on-error",
                    *jobs,
                    *options,
                    f"--dbname={conninfo(database, into)}",
                    str(archive),
                ],
                what=what,
                capture=False,
                owners=owners,
            )
            return
        try:
            self._through_psql(client, database, into, archive, options, what)
        except ToolError as error:
            raise ToolError(with_hint(str(error), database, owners=owners)) from None

    def _server_major(self, client: PgClient, database: Database, into: str) -> int:
        out = client.run(
            "psql",
            database,
            [
                "--no-psqlrc",
                "--tuples-only",
                "--no-align",
                "--command=SHOW server_version_num",
                f"--dbname={conninfo(database, into)}",
            ],
            what=f"psql on {database.identifier}",
        )
        return int(out.strip()) // 10000

    def _through_psql(
        self,
        client: PgClient,
        database: Database,
        into: str,
        archive: PurePath,
        options: list[str],
        what: str,
    ) -> None:
        drop_first = f"0,/^{re.escape(_NEW_IN_17)}$/{{//d}}"
        load = [
            "--no-psqlrc",
            "--quiet",
            "--set=ON_ERROR_STOP=1",
            f"--dbname={conninfo(database, into)}",
            "--file=-",
        ]
        pipe = subprocess.PIPE
        with (
            client.started(
                "pg_restore", database, ["--file=-", *options, str(archive)], what=what, stdout=pipe
            ) as reader,
            processes.started(
                command("sed"),
                ["-e", drop_first],
                what=f"{what}: sed",
                stdin=reader.stdout,
                stdout=pipe,
            ) as editor,
            client.started(
                "psql", database, load, what=f"{what}: psql", stdin=editor.stdout
            ) as loader,
        ):
            # Only the programs hold the pipes now: each sees its neighbour's end.
            reader.stdout.close()
            editor.stdout.close()
            codes = processes.wait_all([loader, editor, reader], timeout=self.timeout)
            for tool, code in zip((loader, editor, reader), codes, strict=True):
                if code != 0:
                    raise tool.failure(code, [database.password])
