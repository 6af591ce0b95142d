"""One operation at a time per database: ``flock`` on its backup directory.

A database of a server (``<service>/<database>``) gets its directory only from what writes
a backup there (``create``): any other command (``prune``, ``verify``, ``--remote``) that
finds none holds its service's directory instead, and a writer makes the database's
directory under that lock, so the two still exclude each other."""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

import attrs

from pg_backup_manager.adapters.storage.files import private_dir
from pg_backup_manager.domain import database_names
from pg_backup_manager.domain.errors import BusyError, ControllerError
from pg_backup_manager.domain.model import Layout

_POLL_SECONDS = 0.2


@attrs.frozen(kw_only=True)
class DirectoryLocks:
    """Exclusive ``flock`` on ``<data root>/<identifier>`` itself.

    The lock lives with the open directory: a holder that dies (even by
    SIGKILL) releases it, nothing goes stale, and taking it creates no file,
    so it works on a full disk (where prune is needed most).
    """

    layout: Layout
    wait_seconds: float

    @contextlib.contextmanager
    def hold(self, identifier: str, *, create: bool = False) -> Iterator[None]:
        """Hold the lock of ``identifier``, waiting up to ``wait_seconds`` for it. A
        database of a server whose directory is missing has it made only with ``create``
        (a backup is written there); otherwise its service's directory is held instead.

        Raises:
            BusyError: another process held it all that time.
            ControllerError: the directory cannot be made, or others can write to it.
        """
        directory = Path(self.layout.backup_dir(identifier))
        service, name = database_names.split(identifier)
        if name is None or _exists(directory):
            with self._held(identifier, directory):
                yield
            return
        # The service's lock first, then a fresh look: a writer makes the directory
        # under it, so the database's own lock is taken too once there is one.
        with self._held(identifier, Path(self.layout.backup_dir(service))):
            if create:
                private_dir(Path(self.layout.data_root), directory)
            if not (create or _exists(directory)):
                yield
                return
        # Taken outside the service's lock: a long dump never holds its service's.
        with self._held(identifier, directory):
            yield

    @contextlib.contextmanager
    def _held(self, identifier: str, directory: Path) -> Iterator[None]:
        directory = private_dir(Path(self.layout.data_root), directory)
        try:
            descriptor = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        except OSError as error:
            raise ControllerError(f"cannot open {directory}: {error.strerror}") from None
        try:
            self._acquire(descriptor, identifier, directory)
            yield
        finally:
            os.close(descriptor)

    def _acquire(self, descriptor: int, identifier: str, directory: Path) -> None:
        flock_within(
            descriptor,
            self.wait_seconds,
            busy=f"busy: another dump, restore, prune, verify, sync or resetwal of "
            f"{identifier} holds the lock on {directory}",
        )


def _exists(directory: Path) -> bool:
    """Return whether anything is at ``directory`` (a symbolic link too: it is refused
    where it is used, never replaced)."""
    return os.path.lexists(directory)


def flock_within(descriptor: int, wait_seconds: float, *, busy: str) -> None:
    """Take an exclusive ``flock`` on ``descriptor``, waiting up to ``wait_seconds``.

    Raises:
        BusyError: another process held it all that time; the message is ``busy``, how
            long it waited, and what to do.
    """
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise BusyError(
                    f"{busy} (waited {wait_seconds:.0f} s); try again when it has finished"
                ) from None
            time.sleep(_POLL_SECONDS)
