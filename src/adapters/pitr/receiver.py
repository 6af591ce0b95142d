"""``pg_receivewal``: one process per service, streaming through its slot into a stream's
``wal`` directory, for as long as the supervisor keeps the ``with`` block open."""

from __future__ import annotations

import contextlib
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path, PurePath

import attrs

from pg_backup_manager.adapters import processes
from pg_backup_manager.adapters.postgres.libpq import PgClient, conninfo
from pg_backup_manager.adapters.postgres.pg_binaries import PgBinaries
from pg_backup_manager.adapters.waiting import wait_for
from pg_backup_manager.domain.model import Database

# pg_receivewal reports its position to the server this often, so the slot's
# restart_lsn (what the server keeps for us) follows within seconds. With
# --synchronous it also reports at once after each flush.
_STATUS_INTERVAL_S = "10"
# SIGINT is pg_receivewal's clean stop on every version (SIGTERM only from 16): it
# flushes the partial segment and exits.
_STOP_GRACE_S = 10.0


@attrs.frozen(kw_only=True)
class Receiving:
    """A running ``pg_receivewal``."""

    started: processes.Started
    secrets: tuple[str, ...]

    @property
    def pid(self) -> int:
        return self.started.process.pid

    def ended(self, timeout: float) -> str | None:
        """Wait up to ``timeout`` seconds; return None while it runs, else why it ended
        (one line: its exit code and last words, the password blanked)."""
        try:
            code = wait_for(self.started.process, timeout)
        except subprocess.TimeoutExpired:
            return None
        return f"pg_receivewal exited {code}: {self.started.said(self.secrets)}"


@attrs.frozen(kw_only=True)
class PgReceiveWal:
    """Starts ``pg_receivewal`` (the newest client tools: it speaks to older servers)."""

    binaries: PgBinaries

    @contextlib.contextmanager
    def receiving(self, database: Database, directory: PurePath, slot: str) -> Iterator[Receiving]:
        """Stream ``database``'s WAL through ``slot`` into ``directory`` for the block.

        It starts where ``directory``'s newest segment ends, else at the slot's
        position: a directory with WAL of another history must never be given.
        ``--synchronous`` flushes each write before telling the server, so what the
        slot lets go is on disk; ``--no-loop`` leaves retrying to the supervisor.
        Leaving the block stops it cleanly (SIGINT), killing it if it lingers.

        Raises:
            ToolError: it cannot be started.
        """
        Path(directory).mkdir(parents=True, exist_ok=True)
        args = [
            f"--directory={directory}",
            f"--slot={slot}",
            "--synchronous",
            "--no-loop",
            f"--status-interval={_STATUS_INTERVAL_S}",
            f"--dbname={conninfo(database, 'replication')}",
        ]
        client = PgClient(binaries=self.binaries, timeout=0.0)  # it runs until stopped
        with client.started(
            "pg_receivewal", database, args, what=f"pg_receivewal of {database.identifier}"
        ) as started:
            try:
                yield Receiving(started=started, secrets=(database.password,))
            finally:
                _stop(started.process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        wait_for(process, _STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        processes.stop(process)
