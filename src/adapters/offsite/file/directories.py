"""The directories of the file bucket (:mod:`.bucket`), checked at each use: the root
that OFFSITE_URL names must be a directory this user can read (to read copies) or write
in (to make or delete them), and neither it nor a database's directory under it may be
writable by other users (they could swap a file or a directory for a symbolic link and
redirect what the controller writes), as the local backup directories are refused
(:func:`~pg_backup_manager.adapters.storage.files.others_can_write`). A database's
directory is never a symbolic link: one is refused, never followed."""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

from pg_backup_manager.adapters.storage.files import others_can_write
from pg_backup_manager.domain.errors import ConfigurationError


def checked_root(root: Path, *, writing: bool) -> Path:
    """Return ``root`` once it is a directory this user can read in (``writing``: and
    write in) and that no other user can write in.

    Raises:
        ConfigurationError: it is not (a share not mounted, a mistyped path, a read-only
            share for a command that writes, a directory open to everyone).
    """
    where = f"OFFSITE_URL names file://{root}"
    if not root.is_dir():
        raise ConfigurationError(
            f"{where}, which is not a directory: mount the share (or create the directory on it)"
        )
    if writing and not os.access(root, os.W_OK | os.X_OK):
        raise ConfigurationError(
            f"{where}, where user {os.getuid()} cannot write: give it the rights (or mount "
            "the share read-write)"
        )
    if not os.access(root, os.R_OK | os.X_OK):
        raise ConfigurationError(
            f"{where}, which user {os.getuid()} cannot read: give it the rights"
        )
    _refuse_if_others_can_write(root, os.stat(root), where)
    return root


def checked_directory(directory: Path, *, root: Path) -> bool:
    """Return whether the database's ``directory`` under ``root`` exists, once it and each
    directory between (a database of a server has its service's) is neither a symbolic
    link nor writable by other users.

    Raises:
        ConfigurationError: one is either.
    """
    return all(_checked(level, root=root) for level in _levels(directory, root))


def made_directory(directory: Path, *, root: Path) -> None:
    """Make the database's ``directory`` under ``root`` and each missing one between, each
    checked as :func:`checked_directory` checks it (made by another, or by us).

    Raises:
        ConfigurationError: one is not fit to use.
        OSError: one cannot be made.
    """
    for level in _levels(directory, root):
        with contextlib.suppress(FileExistsError):  # the database's copies are there already
            level.mkdir()
        _checked(level, root=root)


def _levels(directory: Path, root: Path) -> list[Path]:
    """Return the directories from just under ``root`` down to ``directory``."""
    relative = directory.relative_to(root)
    return [root / level for level in (*reversed(relative.parents[:-1]), relative)]


def _checked(directory: Path, *, root: Path) -> bool:
    where = f"OFFSITE_URL names file://{root}"
    try:
        status = os.lstat(directory)
    except FileNotFoundError:
        return False
    except OSError as error:
        raise ConfigurationError(
            f"{where}, where {directory} cannot be read: {error.strerror}"
        ) from None
    if stat.S_ISLNK(status.st_mode):
        raise ConfigurationError(
            f"{where}, where {directory} is a symbolic link, which is never followed: "
            "replace it by a directory"
        )
    _refuse_if_others_can_write(directory, status, where)
    return True


def _refuse_if_others_can_write(directory: Path, status: os.stat_result, where: str) -> None:
    if stat.S_ISDIR(status.st_mode) and others_can_write(status):
        raise ConfigurationError(
            f"{where}, where {directory} can be written by other users (mode "
            f"{stat.S_IMODE(status.st_mode):04o}), who could redirect what the controller "
            f"writes: run 'chmod go-w {directory}' (or 'chmod +t' on a directory you own)"
        )
