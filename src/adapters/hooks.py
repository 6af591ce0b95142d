"""The commands run before and after each database's backup (``PRE_BACKUP_COMMAND``,
``POST_BACKUP_COMMAND``): what they are told, how they run, and what the log and the
failure say of them. The rules of when they run are the domain's
(:mod:`pg_backup_manager.domain.backups.hooks`)."""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Mapping
from pathlib import PurePath

import attrs

from pg_backup_manager.adapters.configuration.hooks import HookCommand, HookSettings
from pg_backup_manager.adapters.hook_process import Ran, run_bounded
from pg_backup_manager.adapters.settings import Settings
from pg_backup_manager.adapters.tool_output import last_words
from pg_backup_manager.domain.backups.hooks import Attempt, HookError
from pg_backup_manager.domain.model import Database, Layout

log = logging.getLogger("controller")

# What of a command's output reaches the log: its last 4 KiB, at most its last 50 lines
# (the end of a program's output says how it ended; memory stays bounded whatever it says).
KEPT_BYTES = 4096
KEPT_LINES = 50
# All a command gets of the controller's environment, which holds passwords and tokens.
PASSED_ON = ("PATH", "HOME", "LANG")


def hook_environment(
    *,
    base: Mapping[str, str],
    database: Database,
    directory: PurePath,
    attempt: Attempt | None,
    path: PurePath | None = None,
) -> dict[str, str]:
    """Return the whole environment of a command run before (``attempt`` None) or after
    ``attempt`` at a backup of ``database``: ``base``, then what it is told of the backup
    (``path``: the backup committed, if any). Never a password."""
    outcome = "" if attempt is None else "success" if attempt.succeeded else "failure"
    return {
        **base,
        "BACKUP_PHASE": "pre" if attempt is None else "post",
        "BACKUP_DATABASE": database.identifier,
        "BACKUP_DBNAME": database.dbname,
        "BACKUP_HOST": database.host,
        "BACKUP_PORT": str(database.port),
        "BACKUP_USER": database.user,
        "BACKUP_DIR": str(directory),
        "BACKUP_PATH": str(path) if path is not None else "",
        "BACKUP_OUTCOME": outcome,
        "BACKUP_ERROR": (attempt.error or "") if attempt is not None else "",
    }


def passed_on(environ: Mapping[str, str], *, timezone: str) -> dict[str, str]:
    """Return what every command gets of the controller's ``environ`` (``PASSED_ON``; a
    ``PATH`` by default), and ``TZ``, the controller's time zone."""
    base = {name: environ[name] for name in PASSED_ON if environ.get(name)}
    return {"PATH": os.defpath, **base, "TZ": timezone}


@attrs.frozen(kw_only=True)
class CommandHooks:
    """Runs each database's commands of ``settings`` with ``base`` (see :func:`passed_on`)
    and what they are told (:func:`hook_environment`); their output goes to the log."""

    settings: HookSettings
    layout: Layout
    base: Mapping[str, str]

    def before(self, database: Database) -> None:
        """Run ``database``'s pre-backup command, if it has one.

        Raises:
            HookError: it exited non-zero, outlived its timeout or could not start.
        """
        command = self.settings.pre.get(database.service)  # a server's: each database's
        if command is not None:
            self._run(command, database, attempt=None)

    def after(self, database: Database, attempt: Attempt) -> None:
        """Run ``database``'s post-backup command, if it has one, told of ``attempt``.

        Raises:
            HookError: it exited non-zero, outlived its timeout or could not start.
        """
        command = self.settings.post.get(database.service)
        if command is not None:
            self._run(command, database, attempt=attempt)

    def _run(self, command: HookCommand, database: Database, *, attempt: Attempt | None) -> None:
        directory = self.layout.backup_dir(database.identifier)
        backup = attempt.backup if attempt is not None else None
        env = hook_environment(
            base=self.base,
            database=database,
            directory=directory,
            attempt=attempt,
            path=directory / str(backup) if backup is not None else None,
        )
        identifier, timeout = database.identifier, self.settings.timeout
        try:
            ran = run_bounded(command.argv, env=env, timeout=timeout, keep=KEPT_BYTES)
        except OSError as error:
            raise HookError(
                f"{command.variable}: cannot run {command.program}: {error.strerror or error}"
            ) from None
        failure = _failure(command, ran, timeout)
        _log_output(
            identifier, command.variable, ran, logging.INFO if failure is None else logging.WARNING
        )
        if failure is not None:
            raise HookError(failure)
        log.info("%s: %s (%s) ended (exit 0)", identifier, command.variable, command.program)


def _failure(command: HookCommand, ran: Ran, timeout: float) -> str | None:
    """Return how ``command`` failed, on one line, or None when it exited 0."""
    what = f"{command.variable} ({command.program})"
    if ran.code is None:
        return (
            f"{what} did not end within {timeout:.0f} s (HOOK_TIMEOUT): it was killed with "
            "every process it started"
        )
    if ran.code < 0:
        return f"{what} was killed by {signal.Signals(-ran.code).name}"
    if ran.code > 0:
        return f"{what} failed (exit {ran.code}): {last_words(ran.tail, ())}"
    return None


def _log_output(identifier: str, variable: str, ran: Ran, level: int) -> None:
    """Log the end of what a command said (``KEPT_BYTES``, ``KEPT_LINES``), line by line,
    each control character escaped."""
    lines = [line for line in ran.tail.decode(errors="replace").splitlines() if line.strip()]
    if ran.dropped and len(lines) > 1:
        lines = lines[1:]  # cut: the rest of a line whose start was not kept (unless alone)
    shown = lines[-KEPT_LINES:]
    if ran.dropped or len(shown) < len(lines):
        log.log(level, "%s: %s said more; its last %d line(s):", identifier, variable, len(shown))
    for line in shown:
        log.log(level, "%s: %s: %s", identifier, variable, _printable(line))


def _printable(line: str) -> str:
    return "".join(c if c.isprintable() or c == "\t" else repr(c)[1:-1] for c in line)


def command_hooks(settings: Settings, environ: Mapping[str, str]) -> CommandHooks:
    """Return the hooks ``settings`` set, with what they get of ``environ``."""
    config = settings.config
    return CommandHooks(
        settings=settings.hooks,
        layout=config.layout,
        base=passed_on(environ, timezone=config.timezone),
    )
