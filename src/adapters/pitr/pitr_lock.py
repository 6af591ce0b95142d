"""One base backup or PITR prune (and, later, one receiver) at a time per service:
``flock`` on ``<data root>/<service>/pitr/.lock``, apart from the dumps' lock, so dumps
go on meanwhile."""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

import attrs

from pg_backup_manager.adapters.pitr import records
from pg_backup_manager.adapters.storage import files
from pg_backup_manager.domain.errors import BusyError, ControllerError
from pg_backup_manager.domain.model import Layout

LOCK_NAME = ".lock"
_POLL_SECONDS = 0.2


@attrs.frozen(kw_only=True)
class PitrLocks:
    """Exclusive ``flock`` on each service's ``pitr/.lock``.

    The lock lives with the open file: a holder that dies (even by SIGKILL)
    releases it. The file is created once, empty, and kept.
    """

    layout: Layout
    wait_seconds: float

    @contextlib.contextmanager
    def hold(self, identifier: str) -> Iterator[None]:
        """Hold the PITR lock of ``identifier``, waiting up to ``wait_seconds`` for it.

        Raises:
            BusyError: another process held it all that time.
            ControllerError: the directory or the lock file cannot be made, or
                others can write to the directory.
        """
        directory = files.private_dir(
            Path(self.layout.data_root), records.pitr_dir(self.layout, identifier)
        )
        path = directory / LOCK_NAME
        try:
            descriptor = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        except OSError as error:
            raise ControllerError(f"cannot open {path}: {error.strerror}") from None
        try:
            self._acquire(descriptor, identifier, path)
            yield
        finally:
            os.close(descriptor)

    def _acquire(self, descriptor: int, identifier: str, path: Path) -> None:
        deadline = time.monotonic() + self.wait_seconds
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise BusyError(
                        f"busy: another base backup or prune of {identifier} holds the lock "
                        f"on {path} (waited {self.wait_seconds:.0f} s); try again when it has "
                        "finished"
                    ) from None
                time.sleep(_POLL_SECONDS)
