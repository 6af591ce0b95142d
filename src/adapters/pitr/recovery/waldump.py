"""``pg_waldump`` of the stream's own major version (it reads only its own version's WAL):
the newest commit, and the last record, of the WAL a recovery is given."""

from __future__ import annotations

import re
import subprocess
from datetime import UTC, datetime
from pathlib import PurePath

import attrs

from pg_backup_manager.adapters import processes
from pg_backup_manager.adapters.postgres.pg_binaries import PgBinaries
from pg_backup_manager.domain.pitr.model import WalScan
from pg_backup_manager.domain.pitr.wal_names import format_lsn, parse_lsn

# "lsn: 0/02000028, prev 0/01B46AB8, desc: COMMIT 2026-12-04 23:23:21.748127 UTC; ..."
# (and COMMIT_PREPARED), in UTC because the tool runs with TZ=UTC.
_RECORD = re.compile(rb"lsn: ([0-9A-F]+/[0-9A-F]+), prev [0-9A-F]+/[0-9A-F]+, desc: (.*)")
_COMMIT = re.compile(rb"COMMIT(?:_PREPARED)? (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?) UTC")
# A day of a busy server's WAL is millions of records: read as they come, none kept.
_TIMEOUT_S = 3600.0
# How pg_waldump says it reached the end of the WAL given: a segment that ends in
# zeros (a partial one, renamed), or no next segment. Anything else it stops at is a
# damaged record, after which nothing can be replayed.
# ("wanted 24, got 0" up to 15, "expected at least 24, got 0" from 16.)
_THE_END = re.compile(
    r"invalid record length at \S+: (?:wanted|expected at least) \d+, got 0\b"
    r"|could not find file|invalid magic number 0000"
)


@attrs.frozen(kw_only=True)
class PgWalDump:
    """Reads WAL segments with ``pg_waldump``."""

    binaries: PgBinaries

    def scan(
        self,
        directory: PurePath,
        *,
        timeline: int,
        start_lsn: int,
        server_major: int,
        commits_only: bool = False,
    ) -> WalScan:
        """Return the newest commit time and the last record of the WAL of ``directory``
        from ``start_lsn`` on (``commits_only``: the last commit record stands for it).

        A damaged record ends the read: what was found before it is returned, with
        the tool's words on it (``damage``).

        Raises:
            ToolError: that major's ``pg_waldump`` is missing or cannot run.
        """
        program = self.binaries.for_major(str(server_major), "pg_waldump")
        args = [f"--path={directory}", f"--timeline={timeline}", f"--start={format_lsn(start_lsn)}"]
        if commits_only:
            args.append("--rmgr=Transaction")
        newest: datetime | None = None
        last: int | None = None
        with processes.started(
            program, args, what="pg_waldump", env={"TZ": "UTC"}, stdout=subprocess.PIPE
        ) as tool:
            for line in tool.stdout:
                record = _RECORD.search(line)
                if record is None:
                    continue
                last = parse_lsn(record.group(1).decode())
                commit = _COMMIT.match(record.group(2))
                if commit is not None:
                    moment = datetime.fromisoformat(commit.group(1).decode()).replace(tzinfo=UTC)
                    newest = moment if newest is None or moment > newest else newest
            code = processes.wait_all([tool], timeout=_TIMEOUT_S)[0]
            said = tool.said()
            if code != 0 and "pg_waldump: error:" not in said:  # it could not run at all
                raise tool.failure(code)
        damage = None if code == 0 or _THE_END.search(said) else said
        return WalScan(last_commit_at=newest, last_record_lsn=last, damage=damage)
