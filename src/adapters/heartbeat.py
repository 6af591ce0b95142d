"""A file whose modification time says the scheduler is alive (for HEALTHCHECK)."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import attrs

from pg_backup_manager.domain.errors import ControllerError

BEAT_SECONDS = 30.0


@attrs.frozen(kw_only=True)
class FileHeartbeat:
    """Touches ``path`` while the scheduler lives; ``age`` tells how long ago it last did."""

    path: Path

    def beat(self) -> None:
        """Record that the scheduler is alive now; never fails the scheduler."""
        with contextlib.suppress(OSError):
            self.path.touch()
            os.utime(self.path)

    @contextlib.contextmanager
    def while_busy(self) -> Iterator[None]:
        """Beat every 30 s from a helper thread while the block (a scheduled run) works.

        The run itself is bounded by the tools' timeouts, so a beat during it
        means progress, not a hang that would never end.
        """
        done = threading.Event()

        def keep_beating() -> None:
            while not done.wait(BEAT_SECONDS):
                self.beat()

        self.beat()
        thread = threading.Thread(target=keep_beating, name="heartbeat", daemon=True)
        thread.start()
        try:
            yield
        finally:
            done.set()
            self.beat()

    def age(self) -> float:
        """Return the seconds since the last beat.

        Raises:
            ControllerError: there was never a beat (no scheduler has run here).
        """
        try:
            return max(0.0, time.time() - self.path.stat().st_mtime)
        except OSError:
            raise ControllerError(
                f"no heartbeat at {self.path}: 'controller start' is not running"
            ) from None
