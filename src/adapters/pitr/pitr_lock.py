"""One base backup or PITR prune (and, later, one receiver) at a time per service:
``flock`` on ``<data root>/<service>/pitr/.lock``, apart from the dumps' lock, so dumps
go on meanwhile."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import attrs

from pg_backup_manager.adapters.pitr import records
from pg_backup_manager.adapters.storage import files
from pg_backup_manager.adapters.storage.locks import flock_within
from pg_backup_manager.domain.errors import ControllerError
from pg_backup_manager.domain.model import Layout

LOCK_NAME = ".lock"


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
            busy = f"busy: another base backup or prune of {identifier} holds the lock on {path}"
            flock_within(descriptor, self.wait_seconds, busy=busy)
            yield
        finally:
            os.close(descriptor)
