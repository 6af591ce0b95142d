"""``pg_waldump`` of the stream's own major version (it reads only its own version's WAL):
the newest commit in the WAL a recovery is given."""

from __future__ import annotations

import re
import subprocess
from datetime import UTC, datetime
from pathlib import PurePath

import attrs

from pg_backup_manager.adapters import processes
from pg_backup_manager.adapters.postgres.pg_binaries import PgBinaries
from pg_backup_manager.domain.pitr.wal_names import format_lsn

# "desc: COMMIT 2026-12-04 23:23:21.748127 UTC" (and "COMMIT_PREPARED ..."), in UTC
# because the tool runs with TZ=UTC.
_COMMIT = re.compile(rb"desc: COMMIT(?:_PREPARED)? (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?) UTC")
# A day of a busy server's WAL lists millions of records: only the commits are read,
# and only the newest matters, so the output is read to its end but not kept.
_TIMEOUT_S = 3600.0


@attrs.frozen(kw_only=True)
class PgWalDump:
    """Reads commits out of WAL segments with ``pg_waldump``."""

    binaries: PgBinaries

    def last_commit(
        self, directory: PurePath, *, timeline: int, start_lsn: int, server_major: int
    ) -> datetime | None:
        """Return the time of the newest commit in the WAL of ``directory`` from
        ``start_lsn`` on (None: there is none).

        The last segment may end in zeros (a ``.partial`` renamed): the tool then
        stops with "invalid record length", which is the end of the WAL, not a
        failure.

        Raises:
            ToolError: that major's ``pg_waldump`` is missing, or it failed otherwise.
        """
        program = self.binaries.for_major(str(server_major), "pg_waldump")
        args = [
            f"--path={directory}",
            f"--timeline={timeline}",
            "--rmgr=Transaction",
            f"--start={format_lsn(start_lsn)}",
        ]
        newest: datetime | None = None
        with processes.started(
            program, args, what="pg_waldump", env={"TZ": "UTC"}, stdout=subprocess.PIPE
        ) as tool:
            for line in tool.stdout:
                found = _COMMIT.search(line)
                if found is not None:
                    moment = datetime.fromisoformat(found.group(1).decode()).replace(tzinfo=UTC)
                    newest = moment if newest is None or moment > newest else newest
            code = processes.wait_all([tool], timeout=_TIMEOUT_S)[0]
            if code != 0 and not _reached_the_end(tool.said()):
                raise tool.failure(code)
        return newest


def _reached_the_end(errors: str) -> bool:
    return "invalid record length" in errors or "could not find file" in errors
