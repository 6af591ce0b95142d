"""Commands run before and after each database's backup (``PRE_BACKUP_COMMAND``,
``POST_BACKUP_COMMAND``): the port that runs them, and what their failures mean.

:class:`~pg_backup_manager.domain.backups.dumping.TakeBackups` runs them around each
database's backup, under its lock, in ``dump`` and in every scheduled run:

- a pre-backup command that fails (exits non-zero, outlives its timeout, cannot start)
  skips that database's backup, which fails like any other (its record, its
  notification, the exit code, ``status`` and ``health``);
- the post-backup command runs after every attempt whose lock was held, whatever
  happened, the pre-backup command's failure included (so it can undo what that
  command did), and is told the backup and the outcome; a stop signal that
  interrupts the attempt goes on once it has run (:func:`stopped`);
- a post-backup command that fails fails the database's run, as a shared copy that
  could not be written does: the backup is kept, listed, uploaded and counted by
  retention.
"""

from __future__ import annotations

from typing import Protocol

import attrs

from pg_backup_manager.domain.errors import ControllerError, one_line, worst_exit_code
from pg_backup_manager.domain.model import Database
from pg_backup_manager.domain.names import BackupName


class HookError(ControllerError):
    """A pre- or post-backup command exited non-zero, outlived its timeout or could not
    start; the message names its variable and ends with its last words."""


@attrs.frozen(kw_only=True)
class Attempt:
    """What the post-backup command is told of a backup: the backup committed (None:
    none was), and the one-line error of the attempt (None: it succeeded)."""

    backup: BackupName | None = None
    error: str | None = None

    @property
    def succeeded(self) -> bool:
        """Return whether the attempt succeeded (its backup, and its shared copy if asked)."""
        return self.error is None


class BackupHooks(Protocol):
    """Runs the commands an operator set around each database's backup."""

    def before(self, database: Database) -> None:
        """Run ``database``'s pre-backup command, if it has one, to its end.

        Raises:
            HookError: it exited non-zero, outlived its timeout or could not start.
        """

    def after(self, database: Database, attempt: Attempt) -> None:
        """Run ``database``'s post-backup command, if it has one, told of ``attempt``.

        Raises:
            HookError: it exited non-zero, outlived its timeout or could not start.
        """


@attrs.frozen
class NoHooks:
    """No command before or after any backup."""

    def before(self, database: Database) -> None:
        """Run nothing."""

    def after(self, database: Database, attempt: Attempt) -> None:
        """Run nothing."""


def skipped(error: HookError) -> HookError:
    """Return the failure of a backup that a failed pre-backup command skipped."""
    return HookError(f"{one_line(error)}; no backup was taken")


def after_failed(
    error: HookError, *, backup: BackupName | None, first: ControllerError | None
) -> ControllerError:
    """Return the failure of an attempt whose post-backup command failed with ``error``:
    that failure, saying that ``backup`` (if any) is kept, after the attempt's own
    ``first`` failure (if any), whose exit code counts if it is the worse."""
    said = one_line(error) + (f"; {backup} is kept" if backup is not None else "")
    if first is None:
        return HookError(said)
    both = ControllerError(f"{one_line(first)}; then {said}")
    both.exit_code = worst_exit_code([first, error])
    return both


def stopped(error: str | None, *, by: str | None) -> str | None:
    """Return what the post-backup command is told of an attempt's ``error`` (None: it
    succeeded) when the controller was stopped ``by`` a signal (None: it was not)."""
    if by is None:
        return error
    return f"the controller was stopped ({by}) during the backup" + (f": {error}" if error else "")
