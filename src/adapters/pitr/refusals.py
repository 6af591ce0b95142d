"""Why a server refused a replication connection or a slot, said in one line that names
what is missing and how to add it.

The server's own words (FATAL or ERROR, as ``psql`` repeats them) are matched
case-insensitively; the texts of PostgreSQL 15 and of 16 and later both are known.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable

from pg_backup_manager.adapters.postgres.libpq import with_hint
from pg_backup_manager.domain.errors import ControllerError, ReplicationRefusedError, ToolError
from pg_backup_manager.domain.model import Database


class Cause(enum.Enum):
    """What the server lacks for the controller to stream its WAL."""

    NO_HBA_LINE = "no pg_hba.conf line"
    NO_ATTRIBUTE = "no REPLICATION attribute"
    NO_SENDERS = "max_wal_senders"
    WAL_LEVEL_MINIMAL = "wal_level minimal"
    SLOTS_OFF = "max_replication_slots is 0"
    SLOTS_FULL = "all slots in use"


_NEEDLES = (
    ("no pg_hba.conf entry for replication connection", Cause.NO_HBA_LINE),
    # 15 and earlier, for the walsender and for the slot functions alike.
    ("must be superuser or replication role", Cause.NO_ATTRIBUTE),
    ("permission denied to start wal sender", Cause.NO_ATTRIBUTE),  # 16+
    ("permission denied to use replication slots", Cause.NO_ATTRIBUTE),  # 16+
    ("exceeds max_wal_senders", Cause.NO_SENDERS),
    ("can only be used if wal_level >= replica", Cause.WAL_LEVEL_MINIMAL),
    ("can only be used if max_replication_slots > 0", Cause.SLOTS_OFF),
    ("all replication slots are in use", Cause.SLOTS_FULL),
)
_CLIENT_HOST = re.compile(r'replication connection from host "([^"]*)"', re.IGNORECASE)
_SENDERS_NOW = re.compile(r"max_wal_senders \(currently (\d+)\)", re.IGNORECASE)
_SERVER_SAID = re.compile(r"\b(?:FATAL|ERROR):\s+(.*?)\s*(?:\||$)")
_PLAIN_NAME = re.compile(r"[a-z_][a-z0-9_]*")
_SAID_CHARACTERS = 200


def refusal(
    said: str, database: Database, *, wal_level: Callable[[], str | None]
) -> ControllerError:
    """Return the error of a replication connection to ``database`` that failed with
    ``said`` (a tool's error, its hint included).

    ``wal_level`` asks the server its ``wal_level`` over a normal connection (None
    when it cannot); it is asked only when the refusal could be either
    ``max_wal_senders`` or ``wal_level``.

    Returns:
        ReplicationRefusedError: the server refused; the line says what is missing,
            or, when no rule knows it, the server's own words.
        ToolError: the server was not reached or the password is wrong (``said``,
            in the words every tool of the controller uses), or it said nothing.
    """
    cause = cause_of(said)
    # wal_level = minimal forces max_wal_senders = 0, and both refuse with the
    # same words.
    if cause is Cause.NO_SENDERS and wal_level() == "minimal":
        cause = Cause.WAL_LEVEL_MINIMAL
    if cause is not None:
        return ReplicationRefusedError(explain(cause, said, database))
    # A wrong password, a host that does not answer: libpq.py has a hint for it
    # (and ``said`` carries it already), the words every tool of the controller uses.
    if with_hint(said, database) != said:
        return ToolError(said)
    words = server_said(said)
    if words is None:
        return ToolError(said)
    return ReplicationRefusedError(unknown_refusal(words, database))


def cause_of(said: str) -> Cause | None:
    """Return what the server lacks according to ``said`` (a tool's error), or None."""
    lowered = said.lower()
    return next((cause for needle, cause in _NEEDLES if needle in lowered), None)


def explain(cause: Cause, said: str, database: Database) -> str:
    """Return the one line that tells an operator what ``database``'s server lacks
    (``cause``, read from ``said``) and how to add it; never the password."""
    server = f"{database.identifier}: the server at {database.host}:{database.port}"
    user = database.user
    if cause is Cause.NO_HBA_LINE:
        seen = _CLIENT_HOST.search(said)
        seen_as = f" (it sees this controller as {seen.group(1)})" if seen else ""
        return (
            f'{server} has no pg_hba.conf line for replication connections of user "{user}"'
            f'{seen_as}: add "host replication {_hba_name(user)} all scram-sha-256" to its '
            "pg_hba.conf, then run SELECT pg_reload_conf()"
        )
    if cause is Cause.NO_ATTRIBUTE:
        return (
            f'{server} says user "{user}" lacks the REPLICATION attribute: run '
            f"ALTER ROLE {_sql_name(user)} REPLICATION as a superuser"
        )
    if cause is Cause.NO_SENDERS:
        now = _SENDERS_NOW.search(said)
        if now is not None and now.group(1) == "0":
            return (
                f"{server} allows no replication connections (max_wal_senders = 0): set "
                "max_wal_senders to 10 (the default; the receiver takes one, each base "
                "backup two) and restart the server"
            )
        currently = f" (max_wal_senders = {now.group(1)})" if now is not None else ""
        return (
            f"{server} has every replication connection in use{currently}: raise "
            "max_wal_senders (the receiver takes one, each base backup two) and restart the server"
        )
    if cause is Cause.WAL_LEVEL_MINIMAL:
        return (
            f"{server} has wal_level = minimal, which allows no replication: set "
            "wal_level = replica (and max_wal_senders = 10, the default) and restart the server"
        )
    if cause is Cause.SLOTS_OFF:
        return (
            f"{server} has replication slots turned off (max_replication_slots = 0): set "
            "max_replication_slots to 10 (the default) and restart the server"
        )
    return (
        f"{server} has every replication slot in use (the receiver keeps one, each base "
        "backup takes a temporary one): drop one no longer used "
        "(SELECT pg_drop_replication_slot('<name>')) or raise max_replication_slots "
        "and restart the server"
    )


def server_said(said: str) -> str | None:
    """Return the server's own last words in ``said`` (after its last FATAL or ERROR),
    on one line and cut short, or None when the server said nothing."""
    found = _SERVER_SAID.findall(" ".join(said.split()))
    if not found:
        return None
    words: str = found[-1]
    return words if len(words) <= _SAID_CHARACTERS else words[:_SAID_CHARACTERS] + "..."


def unknown_refusal(words: str, database: Database) -> str:
    """Return the one line of a refusal no rule knows: the server's own ``words``."""
    return (
        f"{database.identifier}: the server at {database.host}:{database.port} refused "
        f"the replication connection: {words}"
    )


def _sql_name(name: str) -> str:
    """Return ``name`` as an SQL identifier, quoted when it must be."""
    if _PLAIN_NAME.fullmatch(name):
        return name
    return '"' + name.replace('"', '""') + '"'


def _hba_name(name: str) -> str:
    """Return ``name`` as a pg_hba.conf user field, quoted when it must be."""
    if re.fullmatch(r"[A-Za-z0-9_]+", name) and name not in {"all", "replication"}:
        return name
    return '"' + name.replace('"', '""') + '"'
