"""The server behind a service, as a replication client sees it: ``IDENTIFY_SYSTEM``
over a replication connection, and its physical replication slots, through ``psql``
(the ReplicationServer port)."""

from __future__ import annotations

import functools
import json
import re
from datetime import UTC, datetime

import attrs

from pg_backup_manager.adapters.pitr import refusals
from pg_backup_manager.adapters.postgres.libpq import PgClient, conninfo
from pg_backup_manager.adapters.postgres.pg_binaries import PgBinaries
from pg_backup_manager.domain.errors import ConfigurationError, ReplicationRefusedError, ToolError
from pg_backup_manager.domain.model import Database
from pg_backup_manager.domain.pitr.model import ServerIdentity, SlotState
from pg_backup_manager.domain.pitr.wal_names import lsn_of

_SLOT_NAME = re.compile(r"[a-z0-9_]{1,63}")
# A walsender answers these replication commands (SHOW since PostgreSQL 10) on the
# connection it accepted, one command per query: psql sends each --command alone.
_IDENTIFY = ("IDENTIFY_SYSTEM", "SHOW wal_segment_size", "SHOW server_version_num")
_UNITS = {"B": 1, "kB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30, "TB": 1 << 40}
_SIZE = re.compile(r"(\d+)\s*(B|kB|MB|GB|TB)")
# pg_replication_slots has wal_status and safe_wal_size since PostgreSQL 13. On a
# standby (a cascading source) the WAL it holds ends where its replay is.
_SLOT = """
SELECT json_build_object(
  'active', active,
  'restart_lsn', restart_lsn::text,
  'wal_status', wal_status,
  'safe_wal_size', safe_wal_size,
  'retained_bytes', pg_wal_lsn_diff(
      CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()
           ELSE pg_current_wal_lsn() END,
      restart_lsn)::bigint,
  'server_time', clock_timestamp(),
  'insert_lsn', (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()
                      ELSE pg_current_wal_insert_lsn() END)::text)
FROM pg_replication_slots WHERE slot_name = :'slot';
"""
# true: the slot holds WAL from now on, not only once a receiver first connects.
_CREATE = "SELECT pg_create_physical_replication_slot(:'slot', true);"
_DROP = """
SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = :'slot';
"""


@attrs.frozen(kw_only=True)
class PsqlReplicationServer:
    """The ReplicationServer port through ``psql``: the password in its environment,
    ``connect_timeout``, slot names as psql variables (never pasted into SQL), and
    every refusal said in one line by :mod:`~pg_backup_manager.adapters.pitr.refusals`."""

    binaries: PgBinaries
    timeout: float

    def identify(self, database: Database) -> ServerIdentity:
        """Return what the server says of itself over a replication connection.

        Raises:
            ReplicationRefusedError: the server refused the connection; the message
                names what is missing (a ``pg_hba.conf`` line, the ``REPLICATION``
                attribute, ``max_wal_senders``, ``wal_level``) and how to add it.
            ToolError: it cannot be reached, or the password is wrong (said as
                every tool of the controller says it).
        """
        target = f"{conninfo(database, 'replication')} replication=true"
        try:
            out = self._psql(database, target, commands=_IDENTIFY)
        except ToolError as error:
            wal_level = functools.partial(self._wal_level, database)
            raise refusals.refusal(str(error), database, wal_level=wal_level) from None
        return identity_from(out, what=self._what(database))

    def slot(self, database: Database, name: str) -> SlotState | None:
        """Return the row of the slot ``name``, or None when the server has none.

        Raises:
            ConfigurationError: ``name`` is not a valid slot name.
            ToolError: the server cannot be asked.
        """
        out = self._sql(database, _SLOT, name).strip()
        if not out:
            return None
        try:
            row = json.loads(out)
            return SlotState(
                name=name,
                active=bool(row["active"]),
                restart_lsn=None if row["restart_lsn"] is None else lsn_of(row["restart_lsn"]),
                wal_status=row["wal_status"],
                safe_wal_size=row["safe_wal_size"],
                retained_bytes=row["retained_bytes"],
                server_time=datetime.fromisoformat(row["server_time"]).astimezone(UTC),
                insert_lsn=None if row["insert_lsn"] is None else lsn_of(row["insert_lsn"]),
            )
        except (ValueError, KeyError, TypeError):
            raise ToolError(f"{self._what(database)}: unexpected slot row {out[:200]!r}") from None

    def create_slot(self, database: Database, name: str) -> None:
        """Create the physical slot ``name``, holding WAL from now on.

        Raises:
            ConfigurationError: ``name`` is not a valid slot name.
            ReplicationRefusedError: slots are off or all in use, ``wal_level`` is
                minimal, or the user lacks the ``REPLICATION`` attribute.
            ToolError: the server cannot be asked, or the slot exists already.
        """
        try:
            self._sql(database, _CREATE, name)
        except ToolError as error:
            cause = refusals.cause_of(str(error))
            if cause is None:
                raise
            raise ReplicationRefusedError(refusals.explain(cause, str(error), database)) from None

    def drop_slot(self, database: Database, name: str) -> None:
        """Drop the slot ``name`` if the server has it.

        Raises:
            ConfigurationError: ``name`` is not a valid slot name.
            ToolError: the server cannot be asked, or the slot is in use (the
                server's message names the process that holds it).
        """
        self._sql(database, _DROP, name)

    def _wal_level(self, database: Database) -> str | None:
        """Return the server's ``wal_level``, or None when it cannot be asked."""
        try:
            out = self._psql(
                database, conninfo(database, database.dbname), commands=("SHOW wal_level",)
            )
        except ToolError:
            return None
        return out.strip()

    def _sql(self, database: Database, script: str, slot: str) -> str:
        """Run ``script`` on the service's database with ``:'slot'`` set to ``slot``."""
        if not _SLOT_NAME.fullmatch(slot):
            raise ConfigurationError(
                f"{database.identifier}: {slot!r} is not a replication slot name "
                "(1 to 63 of a-z, 0-9 and _)"
            )
        return self._psql(
            database,
            conninfo(database, database.dbname),
            stdin=script,
            options=("--set=ON_ERROR_STOP=1", f"--set=slot={slot}"),
        )

    def _psql(
        self,
        database: Database,
        target: str,
        *,
        commands: tuple[str, ...] = (),
        stdin: str | None = None,
        options: tuple[str, ...] = (),
    ) -> str:
        return PgClient(binaries=self.binaries, timeout=self.timeout).run(
            "psql",
            database,
            [
                "--no-psqlrc",
                "--quiet",
                "--tuples-only",
                "--no-align",
                "--field-separator=\t",
                *options,
                *(f"--command={command}" for command in commands),
                f"--dbname={target}",
            ],
            what=self._what(database),
            stdin=stdin,
            env={"PGCLIENTENCODING": "UTF8"},
        )

    @staticmethod
    def _what(database: Database) -> str:
        return f"psql on {database.identifier} ({database.host}:{database.port})"


def identity_from(out: str, *, what: str) -> ServerIdentity:
    """Return the identity in ``psql``'s answer to ``IDENTIFY_SYSTEM``, ``SHOW
    wal_segment_size`` and ``SHOW server_version_num`` (one line each, tab-separated).

    Raises:
        ToolError: the answer is not that (``what`` names the asking tool).
    """
    lines = [line for line in out.splitlines() if line.strip()]
    try:
        system_identifier, timeline, position, *_ = lines[0].split("\t")
        if not system_identifier.isdigit():
            raise ValueError(system_identifier)
        return ServerIdentity(
            system_identifier=system_identifier,
            timeline=int(timeline),
            current_lsn=lsn_of(position),
            wal_segment_size=_size_in_bytes(lines[1]),
            server_major=int(lines[2]) // 10000,
        )
    except (ValueError, IndexError):
        raise ToolError(f"{what}: unexpected answer to IDENTIFY_SYSTEM {out[:200]!r}") from None


def _size_in_bytes(shown: str) -> int:
    """Return the bytes of a size as ``SHOW`` says it (``16MB``, ``1GB``).

    Raises:
        ValueError: it is not such a size.
    """
    found = _SIZE.fullmatch(shown.strip())
    if found is None:
        raise ValueError(shown)
    return int(found.group(1)) * _UNITS[found.group(2)]
