"""Running a client tool as a database's user: connection strings, the password in a
passfile of the tool's own (never in its environment or argv), and hints for the
failures people meet."""

from __future__ import annotations

import contextlib
import re
import subprocess
from collections.abc import Iterator, Mapping, Sequence

import attrs

from pg_backup_manager.adapters import processes
from pg_backup_manager.adapters.configuration.services import PASSWORD
from pg_backup_manager.adapters.configuration.variable import env_prefix
from pg_backup_manager.adapters.postgres.passfile import passfile, pgpassfile
from pg_backup_manager.adapters.postgres.pg_binaries import PgBinaries
from pg_backup_manager.domain.errors import ToolError
from pg_backup_manager.domain.model import Database

_HINTS = (
    ("password authentication failed", "check {prefix}_POSTGRES_USER and {password}"),
    ("no password supplied", "set {password}"),
    ("could not translate host name", "check {prefix}_POSTGRES_HOST"),
    ("connection refused", "is the server up? check {prefix}_POSTGRES_HOST and _PORT"),
    ("timeout expired", "is the server up? check {prefix}_POSTGRES_HOST and _PORT"),
    ("must be owner of database", "the restoring user must own the database or be a superuser"),
    (
        "must be a superuser to terminate",
        "ending other users' sessions needs a superuser or pg_signal_backend",
    ),
    (
        "permission denied to create database",
        "the restoring user needs CREATEDB (ALTER ROLE ... CREATEDB)",
    ),
    ("does not exist", "check {prefix}_POSTGRES_DB"),
    ("server version mismatch", "use client tools at least as new as the server (PG_BIN_DIR)"),
    ("no space left", "free space in the backup directory"),
)
_MISSING_ROLE = re.compile(r'role "((?:[^"]|"")+)" does not exist')
APPLICATION_NAME = "pg-backup-manager"
_CONNECT_TIMEOUT_SECONDS = "10"


def conninfo(database: Database, dbname: str) -> str:
    """Return a libpq connection string for ``dbname`` on ``database``'s server.

    Values are quoted, so names with spaces or ``=`` stay names. The password is
    not in it: it travels in the tool's passfile.
    """
    fields = {
        "host": database.host,
        "port": str(database.port),
        "user": database.user,
        "dbname": dbname,
        "connect_timeout": _CONNECT_TIMEOUT_SECONDS,
    }
    return " ".join(f"{key}={_quote(value)}" for key, value in fields.items())


def dbname_only(dbname: str) -> str:
    """Return a connection string that names ``dbname`` and nothing else (for a tool that
    reads a database's name as a connection string when it holds a ``=``)."""
    return f"dbname={_quote(dbname)}"


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


@attrs.frozen(kw_only=True)
class PgClient:
    """Runs one client tool against a database's server, with its password in a passfile.

    Every client tool of the controller runs through :meth:`run` or :meth:`started`.
    """

    binaries: PgBinaries
    timeout: float

    def run(
        self,
        program: str,
        database: Database,
        args: list[str],
        *,
        what: str,
        stdin: str | None = None,
        capture: bool = True,
        env: Mapping[str, str] | None = None,
        owners: bool = True,
        secrets: Sequence[str] = (),
    ) -> str:
        """Run ``program`` with ``args`` as ``database``'s user; return its output.

        ``secrets`` (besides the password) are blanked from any error message.

        Raises:
            ToolError: it failed; the message ends with a hint when the cause is known
                (``owners`` false: a restore that already skips owners).
        """
        try:
            with passfile(database, variable=password_variable(database)) as descriptor:
                return processes.run(
                    self.binaries.client(program),
                    ["--no-password", *args],
                    what=what,
                    timeout=self.timeout,
                    env={**libpq_env(descriptor), **(env or {})},
                    stdin=stdin,
                    capture=capture,
                    secrets=[database.password, *secrets],
                    pass_fds=[descriptor],
                )
        except ToolError as error:
            raise ToolError(with_hint(str(error), database, owners=owners)) from None

    @contextlib.contextmanager
    def started(
        self,
        program: str,
        database: Database,
        args: list[str],
        *,
        what: str,
        stdin: processes.Stream = subprocess.DEVNULL,
        stdout: processes.Stream = subprocess.DEVNULL,
    ) -> Iterator[processes.Started]:
        """Start ``program`` as ``database``'s user for a ``with`` block (its passfile
        lives as long as the block).

        See :func:`~pg_backup_manager.adapters.processes.started`.
        """
        with (
            passfile(database, variable=password_variable(database)) as descriptor,
            processes.started(
                self.binaries.client(program),
                ["--no-password", *args],
                what=what,
                env=libpq_env(descriptor),
                stdin=stdin,
                stdout=stdout,
                pass_fds=[descriptor],
            ) as tool,
        ):
            yield tool


def libpq_env(passfile_descriptor: int) -> dict[str, str]:
    """Return the environment that gives a tool the password in its passfile, open as
    ``passfile_descriptor``: never the password itself."""
    return {"PGPASSFILE": pgpassfile(passfile_descriptor), "PGAPPNAME": APPLICATION_NAME}


def password_variable(database: Database) -> str:
    """Return the variable that gave ``database``'s password."""
    return database.password_variable or PASSWORD.of(database.service).name


def with_hint(message: str, database: Database, *, owners: bool = True) -> str:
    """Return ``message`` with what to do about it, when a known cause shows in it."""
    missing_role = _MISSING_ROLE.search(message)
    if missing_role is not None:
        role = missing_role.group(1)
        skip = "; or restore with --no-owner" if owners else ""
        return (
            f'{message} (role "{role}" is named by the dump but missing on this server: '
            "restore with --with-globals to create the backup's roles, or create it first, "
            f'e.g. CREATE ROLE "{role}" NOLOGIN{skip})'
        )
    lowered = message.lower()
    if database.of_server and f'database "{database.dbname}" does not exist' in message:
        return f"{message} (dropped from {database.service}'s server since its run listed it?)"
    for needle, hint in _HINTS:
        if needle in lowered:
            said = hint.format(
                prefix=env_prefix(database.service), password=password_variable(database)
            )
            return f"{message} ({said})"
    return message
