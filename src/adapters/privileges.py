"""Never run as root: become the unprivileged user before touching anything."""

from __future__ import annotations

import contextlib
import ctypes
import os
import pwd

from pg_backup_manager.domain.errors import ConfigurationError

DEFAULT_USER = "postgres"


def drop_root(user: str = DEFAULT_USER) -> None:
    """Become ``user`` (its uid, gid and groups) if this process runs as root.

    Called before any file or database is touched, so a plain ``docker exec``
    (root) creates nothing that the scheduler, running as ``user``, cannot
    read or delete.

    Raises:
        ConfigurationError: running as root and ``user`` does not exist.
    """
    if os.geteuid() != 0:
        hide_environment()
        return
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        raise ConfigurationError(
            f"the controller never runs as root and there is no user '{user}' to become: "
            "create it, or set CONTROLLER_USER to the user that owns the backups"
        ) from None
    if entry.pw_uid == 0:
        raise ConfigurationError(f"CONTROLLER_USER '{user}' is root: name an unprivileged user")
    os.initgroups(user, entry.pw_gid)
    os.setgid(entry.pw_gid)
    os.setuid(entry.pw_uid)
    os.environ["HOME"] = entry.pw_dir
    os.environ["USER"] = os.environ["LOGNAME"] = user
    hide_environment()  # setuid did it already; said once for both ways in


_PR_SET_DUMPABLE = 4


def hide_environment() -> None:
    """Make this process's ``/proc/<pid>/environ`` (its passwords and tokens) unreadable
    to the other processes of its user, a hook among them: not dumpable, as a process
    that changed its user already is. Where ``prctl`` is missing, nothing changes."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
