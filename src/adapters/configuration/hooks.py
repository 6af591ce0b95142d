"""The variables of the commands run before and after each database's backup, and how
they combine: ``<SERVICE>_PRE_BACKUP_COMMAND`` overrides ``PRE_BACKUP_COMMAND`` for its
service (``none`` turns it off there; blank, as every variable, is unset)."""

from __future__ import annotations

import os
import shlex
import shutil
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from pg_backup_manager.adapters.configuration.variable import SERVICE, Shown, Variable
from pg_backup_manager.adapters.env_values import MAX_SECONDS, seconds
from pg_backup_manager.domain.errors import ConfigurationError

# No command: set on a service, it turns off the command every other service runs.
OFF = "none"
# Five minutes: a hook wraps the dump (pause a writer, tell an application, a quick
# copy or check), seconds of work; one that hangs holds the database's lock and the
# scheduled run, so a short bound limits the harm. A longer copy raises it.
DEFAULT_HOOK_TIMEOUT = 300


@attrs.frozen(kw_only=True)
class HookCommand:
    """A program and its arguments (``argv[0]`` the file found for it at start), and the
    variable that set it, which its messages name."""

    argv: tuple[str, ...]
    variable: str

    @property
    def program(self) -> str:
        """Return the file that runs."""
        return self.argv[0]


@attrs.frozen(kw_only=True)
class HookSettings:
    """The command each service runs before and after its backups (a service that runs
    none is absent), and how long each may run."""

    pre: Mapping[str, HookCommand] = attrs.field(factory=dict)
    post: Mapping[str, HookCommand] = attrs.field(factory=dict)
    timeout: float = float(DEFAULT_HOOK_TIMEOUT)

    @property
    def run_seconds(self) -> float:
        """Return how long every command of one run may take in all, one after another."""
        return self.timeout * (len(self.pre) + len(self.post))


def command(text: str, variable: str) -> HookCommand | None:
    """Return the program and arguments of ``text`` (see :func:`_split`), None for blank
    (unset: no command runs). For ``PRE_BACKUP_COMMAND`` and ``POST_BACKUP_COMMAND``:
    ``none`` belongs to a service's own variable alone.

    Raises:
        ConfigurationError: ``none`` (in any case), or see :func:`_split`.
    """
    if text.strip().lower() == OFF:
        raise ConfigurationError(
            f"{variable}: none is for {SERVICE}_{variable} alone (it turns {variable} off "
            f"for one service): leave {variable} unset to run no command"
        )
    return _split(text, variable) if text.strip() else None


def own_command(text: str, variable: str) -> HookCommand | None:
    """Return the program and arguments of a service's own ``text`` (see :func:`_split`);
    None for blank or for exactly ``none`` (lower case, nothing around it): no command.

    Raises:
        ConfigurationError: ``none`` written otherwise (``None``, `` none``), or see
            :func:`_split`.
    """
    if text == OFF or not text.strip():
        return None
    if text.strip().lower() == OFF:
        raise ConfigurationError(
            f"{variable} must be exactly {OFF} (lower case, nothing around it) to run no "
            f"command for this service, not {text!r}"
        )
    return _split(text, variable)


def _split(text: str, variable: str) -> HookCommand:
    """Return the program and arguments of ``text``, split as a shell splits words (no
    shell runs them), the program found.

    Raises:
        ConfigurationError: unbalanced quotes, no program, or a program that is not an
            executable file (a name: on ``PATH``; else an absolute path).
    """
    try:
        argv = shlex.split(text)
    except ValueError as error:
        raise ConfigurationError(
            f"{variable} cannot be split into a program and its arguments ({error}): quote "
            "as a shell would; no shell runs it (write sh -c '...' for one)"
        ) from None
    if not argv or not argv[0]:
        raise ConfigurationError(f"{variable} names no program: write a program and its arguments")
    return HookCommand(argv=(_found(argv[0], variable), *argv[1:]), variable=variable)


def _found(program: str, variable: str) -> str:
    if "/" in program and not os.path.isabs(program):
        raise ConfigurationError(
            f"{variable}: '{program}' is a relative path: give an absolute path, or the name "
            "of a program on PATH"
        )
    found = shutil.which(program)
    if found is not None:
        return found
    if "/" not in program:
        raise ConfigurationError(
            f"{variable}: no program '{program}' on PATH ({os.environ.get('PATH', '')}): "
            "install it, or give its absolute path"
        )
    said = "is not an executable file" if os.path.exists(program) else "does not exist"
    raise ConfigurationError(
        f"{variable}: {program} {said} for this user: give a program it can run"
    )


_COMMAND_HELP = (
    "A program and its arguments, split as a shell splits words but never run by a shell "
    "(write `sh -c '...'` for one), run as the controller's user; the program, a name on "
    "`PATH` or an absolute path, must be an executable file at start (else exit 2). What it "
    "is told: see [Hooks](#hooks); never a password."
)
PRE_BACKUP_COMMAND = Variable(
    name="PRE_BACKUP_COMMAND",
    parse=command,
    shown=Shown.URL,
    help="Run before each database's backup (`dump` and scheduled runs), under its lock, e.g. "
    "`/scripts/pause-writers --wait 30`: when it fails (exits non-zero, outlives "
    "`HOOK_TIMEOUT`, cannot start), that backup is skipped and fails. " + _COMMAND_HELP,
)
POST_BACKUP_COMMAND = Variable(
    name="POST_BACKUP_COMMAND",
    parse=command,
    shown=Shown.URL,
    help="Run after each database's backup, whatever happened (also after a failed "
    "pre-backup command), told the backup's path and outcome, e.g. `/scripts/resume-writers`: "
    "when it fails, the database's run fails and the backup is kept. " + _COMMAND_HELP,
)
HOOK_TIMEOUT = Variable(
    name="HOOK_TIMEOUT",
    parse=seconds(minimum=1),
    default=str(DEFAULT_HOOK_TIMEOUT),
    help="Seconds a pre- or post-backup command may run before it is killed with every "
    f"process it started (and fails): 1 to {MAX_SECONDS:.0f} (7 days).",
)


def _own(every: Variable[HookCommand | None], example: str) -> Variable[HookCommand | None]:
    """Return the ``<SERVICE>_`` variable that overrides ``every`` for one service."""
    return Variable(
        name=f"{SERVICE}_{every.name}",
        parse=own_command,
        shown=Shown.URL,
        unset=f"`{every.name}`",
        help=f"This service's own command instead of `{every.name}`, e.g. {example}; `none` "
        "(exactly so, lower case): none for it. Blank is unset (the global one runs), as for "
        "every variable.",
    )


SERVICE_PRE_BACKUP_COMMAND = _own(PRE_BACKUP_COMMAND, "`/hooks/pause-writers users`")
SERVICE_POST_BACKUP_COMMAND = _own(POST_BACKUP_COMMAND, "`sh -c 'cp \"$BACKUP_PATH\" /mnt/nas/'`")
# In the order `controller config` prints them; for each service, SERVICE_VARIABLES.
VARIABLES: tuple[Variable[Any], ...] = (PRE_BACKUP_COMMAND, POST_BACKUP_COMMAND, HOOK_TIMEOUT)
SERVICE_VARIABLES: tuple[Variable[Any], ...] = (
    SERVICE_PRE_BACKUP_COMMAND,
    SERVICE_POST_BACKUP_COMMAND,
)


def hook_settings(environ: Mapping[str, str], identifiers: Sequence[str]) -> HookSettings:
    """Return the commands of each of ``identifiers``' services, and their timeout.

    Raises:
        ConfigurationError: a command or the timeout is malformed (see :func:`command`).
    """
    return HookSettings(
        pre=_each(environ, identifiers, PRE_BACKUP_COMMAND, SERVICE_PRE_BACKUP_COMMAND),
        post=_each(environ, identifiers, POST_BACKUP_COMMAND, SERVICE_POST_BACKUP_COMMAND),
        timeout=HOOK_TIMEOUT.read(environ),
    )


def _each(
    environ: Mapping[str, str],
    identifiers: Sequence[str],
    every: Variable[HookCommand | None],
    own: Variable[HookCommand | None],
) -> dict[str, HookCommand]:
    default = every.read(environ)
    found = {}
    for identifier in identifiers:
        variable = own.of(identifier)
        command = variable.read(environ) if variable.found(environ) is not None else default
        if command is not None:
            found[identifier] = command
    return found
