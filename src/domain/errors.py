"""Errors the controller reports to people.

Every error carries one line that says what happened and what to do, and the
process exit code it maps to: 1 when an operation failed, 2 when the command
line or the configuration is wrong.
"""

from __future__ import annotations

from collections.abc import Iterable


class ControllerError(Exception):
    """An operation failed; the message is one line for the operator."""

    exit_code = 1


class ConfigurationError(ControllerError):
    """The environment or the command line is wrong; nothing was done."""

    exit_code = 2


class UnknownDatabaseError(ConfigurationError):
    """A database identifier that is not in ``DATABASE_LIST``."""


class InvalidBackupNameError(ConfigurationError):
    """A backup name that is not a bare ``file_<tier>_<timestamp>.dump`` name."""


class BackupNotFoundError(ControllerError):
    """A backup (or the shared archive) that does not exist."""


class ToolError(ControllerError):
    """A PostgreSQL tool failed; the message ends with the tool's own last words."""


class ReplicationRefusedError(ControllerError):
    """The server refused the controller's replication connection or slot; the
    message says what is missing."""


class ServerRunningError(ControllerError):
    """A data directory that a live server is still using."""


class IntegrityError(ControllerError):
    """An archive failed its checksum or its archive check: it must not be trusted."""

    exit_code = 3


class BusyError(ControllerError):
    """Another operation holds this database's lock."""

    exit_code = 4


def worst_exit_code(errors: Iterable[ControllerError | None]) -> int:
    """Return the exit code for several failures, 0 for none.

    Integrity (3) wins over busy (4), over configuration (2), over the rest (1):
    the code a script should act on first.
    """
    codes = {error.exit_code for error in errors if error is not None}
    for code in (IntegrityError.exit_code, BusyError.exit_code, ConfigurationError.exit_code):
        if code in codes:
            return code
    return 1 if codes else 0


def one_line(error: BaseException | str) -> str:
    """Return the message of ``error`` on one line, as every report and record says it."""
    return " ".join(str(error).split())
