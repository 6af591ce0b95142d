"""A file whose modification time says the scheduler is alive (for HEALTHCHECK)."""

from __future__ import annotations

import contextlib
import os
import stat
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import attrs

from pg_backup_manager.domain.errors import ControllerError

BEAT_SECONDS = 30.0


@attrs.frozen(kw_only=True)
class FileHeartbeat:
    """Touches ``path`` while the scheduler lives; ``age`` tells how long ago it last did."""

    path: Path

    def beat(self) -> None:
        """Record that the scheduler is alive now; never fails the scheduler.

        The file is created mode 0600 and never through a symbolic link.
        """
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, 0o600)
            try:
                os.utime(descriptor)
            finally:
                os.close(descriptor)

    def started(self, at: datetime) -> None:
        """Record that the scheduler started at ``at`` (the file's content); never fails."""
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW
            descriptor = os.open(self.path, flags, 0o600)
            try:
                os.write(descriptor, at.astimezone(UTC).isoformat().encode())
            finally:
                os.close(descriptor)

    def started_at(self) -> datetime | None:
        """Return when the scheduler that beats this heartbeat started, or None if unknown."""
        try:
            self._status()
            return datetime.fromisoformat(self.path.read_text().strip())
        except (ControllerError, OSError, ValueError):
            return None

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
            ControllerError: there was never a beat (no scheduler has run here),
                or the file is not one this user made (a file someone else
                planted says nothing about the scheduler).
        """
        return max(0.0, time.time() - self._status().st_mtime)

    def _status(self) -> os.stat_result:
        try:
            status = os.lstat(self.path)
        except OSError:
            raise ControllerError(
                f"no heartbeat at {self.path}: 'controller start' is not running"
            ) from None
        if not stat.S_ISREG(status.st_mode) or status.st_uid != os.geteuid():
            raise ControllerError(
                f"{self.path} is not a file of uid {os.geteuid()}, so not the scheduler's "
                "heartbeat: ignored; remove it and check HEARTBEAT_FILE"
            )
        return status
