"""A throwaway PostgreSQL server on a recovered data directory, for ``verify --pitr``: the
stream's own major version, reachable only through a socket in a private directory,
with its own ``pg_hba.conf``; stopped and gone when the check ends."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path, PurePath
from typing import TYPE_CHECKING

import attrs

from pg_backup_manager.adapters import processes
from pg_backup_manager.adapters.postgres.pg_binaries import PgBinaries
from pg_backup_manager.adapters.waiting import wait_for
from pg_backup_manager.domain.errors import IntegrityError, ToolError
from pg_backup_manager.domain.pitr.wal_names import parse_lsn

if TYPE_CHECKING:  # plumbum is imported when a program runs
    from plumbum.commands.base import BaseCommand

_PORT = "5432"  # only names the socket: the server listens on no TCP address
_POLL_S = 0.5
_STOP_GRACE_S = 60.0
_QUERY_TIMEOUT_S = 60.0
# Settings of the server's own configuration that would stop it starting here: TCP,
# libraries and certificates of its host, archiving, and its own clients' rules.
_OVERRIDES = (
    "listen_addresses=",
    "shared_preload_libraries=",
    "ssl=off",
    "archive_mode=off",
    "logging_collector=off",
    "log_destination=stderr",
    "max_slot_wal_keep_size=-1",
)


@attrs.frozen(kw_only=True)
class ScratchPostgres:
    """A server running on a scratch data directory (see :class:`ScratchServers`)."""

    socket_dir: Path
    user: str
    dbname: str
    psql: BaseCommand
    started: processes.Started

    def query(self, sql: str) -> str:
        """Return the one value ``sql`` answers in the service's database."""
        args = ["-X", "-A", "-t", "-h", str(self.socket_dir), "-p", _PORT, "-U", self.user]
        return processes.run(
            self.psql,
            [*args, "-d", self.dbname, "-c", sql],
            what="psql on the scratch server",
            timeout=_QUERY_TIMEOUT_S,
        ).strip()

    def promoted(self, *, timeout: float) -> int:
        """Wait until recovery has ended and the server accepts writes; return the end
        of the last record it replayed.

        Raises:
            IntegrityError: the server stopped, or did not promote in ``timeout`` s;
                the message ends with the last lines of its log.
        """
        deadline = time.monotonic() + timeout
        while True:
            if self.started.process.poll() is not None:
                raise IntegrityError(f"the recovered server stopped: {self.started.said()}")
            with contextlib.suppress(ToolError):
                if self.query("select pg_is_in_recovery()") == "f":
                    return parse_lsn(self.query("select pg_last_wal_replay_lsn()")) or 0
            if time.monotonic() > deadline:
                raise IntegrityError(
                    f"the recovered server did not promote in time: {self.started.said()}"
                )
            time.sleep(_POLL_S)


@attrs.frozen(kw_only=True)
class ScratchServers:
    """Starts servers of each major version on scratch data directories."""

    binaries: PgBinaries

    @contextlib.contextmanager
    def running(
        self, data_dir: PurePath, *, major: int, user: str, dbname: str
    ) -> Iterator[ScratchPostgres]:
        """Run ``postgres`` of ``major`` on ``data_dir`` for the block; ``user`` is a role
        of that cluster, let in without a password through the private socket, to
        ``dbname``.

        Raises:
            ToolError: that major's server is not available.
        """
        postgres = self.binaries.for_major(str(major), "postgres")
        with tempfile.TemporaryDirectory(prefix="pgbm-verify-") as private:
            socket_dir = Path(private)  # short: a socket's path has at most 107 bytes
            hba = socket_dir / "pg_hba.conf"
            hba.write_text("local all all trust\n")
            settings = [*_OVERRIDES, f"unix_socket_directories={socket_dir}", f"port={_PORT}"]
            settings.append(f"hba_file={hba}")
            args = ["-D", str(data_dir)] + [arg for s in settings for arg in ("-c", s)]
            with processes.started(postgres, args, what=f"postgres {major}") as started:
                server = ScratchPostgres(
                    socket_dir=socket_dir,
                    user=user,
                    dbname=dbname,
                    psql=self.binaries.client("psql"),
                    started=started,
                )
                try:
                    yield server
                finally:
                    _stop(started.process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)  # fast shutdown
    try:
        wait_for(process, _STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        processes.stop(process)
