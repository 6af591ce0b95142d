"""``pg_restore`` behind the Restorer port: into an existing, empty database, stopping
at the first error."""

from __future__ import annotations

import re
import subprocess
from pathlib import PurePath

import attrs

from pg_backup_manager.adapters import processes
from pg_backup_manager.adapters.postgres.archive_database import (
    archived_properties,
    database_entries,
)
from pg_backup_manager.adapters.postgres.libpq import PgClient, conninfo, with_hint
from pg_backup_manager.adapters.postgres.pg_binaries import PgBinaries, command, tools_major
from pg_backup_manager.domain.errors import IntegrityError, ToolError
from pg_backup_manager.domain.model import Database, DatabaseProperties

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

    def archived_properties(self, archive: PurePath, *, owners: bool) -> DatabaseProperties | None:
        """Return what ``pg_restore --create`` would give a new database of ``archive``.

        The archive's database entries alone are printed by ``pg_restore
        --create --schema-only -L`` (the list on standard input) and read by
        :func:`~pg_backup_manager.adapters.postgres.archive_database.archived_properties`;
        no server is involved.

        Raises:
            IntegrityError: the archive's table of contents cannot be read, or its
                statements about the database are not what pg_dump writes.
            ToolError: pg_restore failed or timed out.
        """
        command = self.binaries.client("pg_restore")
        what = f"pg_restore of {archive.name}'s database properties"
        try:
            listing = processes.run(
                command, ["--create", "--list", str(archive)], what=what, timeout=self.timeout
            )
        except ToolError as error:
            raise IntegrityError(f"{archive} is damaged: {error}") from None
        entries = database_entries(listing)
        if not entries:
            return None
        script = processes.run(
            command,
            ["--create", "--schema-only", "--use-list=/dev/stdin", "--file=-", str(archive)],
            what=what,
            timeout=self.timeout,
            stdin=entries,
        )
        return archived_properties(script, owners=owners, origin=f"{archive.name}")

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
