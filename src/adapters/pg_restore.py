"""``pg_restore`` into an existing, empty database, stopping at the first error."""

from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import PurePath
from typing import IO, cast

import attrs
from plumbum import local

from pg_backup_manager.adapters.pg_tools import (
    PgBinaries,
    PgClient,
    conninfo,
    libpq_env,
    with_hint,
)
from pg_backup_manager.adapters.processes import last_words, track, wait_all
from pg_backup_manager.domain.errors import ToolError
from pg_backup_manager.domain.model import Database

# pg_restore 17 always starts with this, and servers before 17 reject it.
_NEW_IN_17 = "SET transaction_timeout = 0;"
_VERSION = re.compile(r"\)\s+(\d+)")


@attrs.frozen(kw_only=True)
class PgRestore:
    """Restores with ``pg_restore --exit-on-error`` straight into the server.

    Into a server older than the tools (the image's 17 into a 15), pg_restore
    writes a setting the server does not know. There the archive goes through
    ``pg_restore -f - | sed | psql -v ON_ERROR_STOP=1`` instead, with that one
    line left out: the same statements, still stopping at the first error.
    """

    binaries: PgBinaries
    timeout: float

    def restore(self, database: Database, *, into: str, archive: PurePath, owners: bool) -> None:
        """Load ``archive`` into database ``into``; raise ToolError on any error."""
        options = [] if owners else ["--no-owner", "--no-privileges"]
        what = f"pg_restore of {archive.name} into {database.identifier}"
        client = PgClient(binaries=self.binaries, timeout=self.timeout)
        if self._server_major(client, database, into) >= 17 or self._tools_major() < 17:
            client.run(
                "pg_restore",
                database,
                ["--exit-on-error", *options, f"--dbname={conninfo(database, into)}", str(archive)],
                what=what,
                capture=False,
                owners=owners,
            )
            return
        try:
            self._through_psql(database, into, archive, options, what)
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

    def _tools_major(self) -> int:
        out = subprocess.run(
            [str(self.binaries.client("pg_restore")), "--version"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        ).stdout
        found = _VERSION.search(out)
        return int(found.group(1)) if found else 0

    def _through_psql(
        self, database: Database, into: str, archive: PurePath, options: list[str], what: str
    ) -> None:
        env = libpq_env(database)
        pg_restore = self.binaries.client("pg_restore").with_env(**env)
        psql = self.binaries.client("psql").with_env(**env)
        drop_first = f"0,/^{re.escape(_NEW_IN_17)}$/{{//d}}"
        with tempfile.TemporaryFile() as reader_errors, tempfile.TemporaryFile() as loader_errors:
            reader = track(
                cast(
                    "subprocess.Popen[bytes]",
                    pg_restore.popen(
                        ["--file=-", *options, str(archive)],
                        stdin=subprocess.DEVNULL,
                        stdout=subprocess.PIPE,
                        stderr=reader_errors,
                    ),
                )
            )
            editor = track(
                cast(
                    "subprocess.Popen[bytes]",
                    local["sed"].popen(
                        ["-e", drop_first],
                        stdin=reader.stdout,
                        stdout=subprocess.PIPE,
                        stderr=subprocess.DEVNULL,
                    ),
                )
            )
            cast(IO[bytes], reader.stdout).close()
            loader = track(
                cast(
                    "subprocess.Popen[bytes]",
                    psql.popen(
                        [
                            "--no-psqlrc",
                            "--quiet",
                            "--no-password",
                            "--set=ON_ERROR_STOP=1",
                            f"--dbname={conninfo(database, into)}",
                            "--file=-",
                        ],
                        stdin=editor.stdout,
                        stdout=subprocess.DEVNULL,
                        stderr=loader_errors,
                    ),
                )
            )
            cast(IO[bytes], editor.stdout).close()
            codes = wait_all([loader, editor, reader], timeout=self.timeout, what="the restore")
            if codes[0] != 0:
                loader_errors.seek(0)
                words = last_words(loader_errors.read(), [database.password])
                raise ToolError(f"{what}: psql failed (exit {codes[0]}): {words}")
            if codes[1] != 0:
                raise ToolError(f"{what}: sed failed (exit {codes[1]}) between pg_restore and psql")
            if codes[2] != 0:
                reader_errors.seek(0)
                words = last_words(reader_errors.read(), [database.password])
                raise ToolError(f"{what}: pg_restore failed (exit {codes[2]}): {words}")
