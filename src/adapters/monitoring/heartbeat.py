"""A file whose modification time says the scheduler is alive, and whose content says
what it is doing (for HEALTHCHECK)."""

from __future__ import annotations

import contextlib
import json
import os
import stat
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import attrs

from pg_backup_manager.domain.errors import ControllerError
from pg_backup_manager.domain.monitoring.health import SchedulerState

BEAT_SECONDS = 30.0
_TIMES = ("due_at", "busy_since", "busy_until")


@attrs.frozen(kw_only=True)
class FileHeartbeat:
    """Touches ``path`` while the scheduler lives; ``age`` tells how long ago it last did.

    The content is one JSON object: when the scheduler started (``started_at``) and
    what it does now (:class:`SchedulerState`: the run it waits for, or the run in
    progress and its bound), all RFC 3339 times. It is rewritten in place by one
    small write; a reader that catches it half-written sees no state, never a
    wrong one.
    """

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
        """Record that the scheduler started at ``at``, doing nothing yet; never fails."""
        self._write({"started_at": _text(at)})

    def started_at(self) -> datetime | None:
        """Return when the scheduler that beats this heartbeat started, or None if unknown."""
        started = self._content().get("started_at")
        return _time(started) if isinstance(started, str) else None

    def waiting(self, due: datetime) -> None:
        """Record that the scheduler waits for the run due at ``due``, and beat; never fails."""
        self._write({**self._started(), "due_at": _text(due)})

    def state(self) -> SchedulerState | None:
        """Return what the scheduler last recorded doing, or None when it recorded nothing
        readable (not started, an older controller's file, caught half-written)."""
        content = self._content()
        times = {key: _time(text) for key in _TIMES if isinstance(text := content.get(key), str)}
        if not times or None in times.values():
            return None
        return SchedulerState(**times)

    @contextlib.contextmanager
    def while_busy(self, *, since: datetime, until: datetime) -> Iterator[None]:
        """Record a run in progress since ``since`` that must end by ``until``, and beat
        every 30 s from a
        helper thread while the block (the run) works.

        The beats say the process lives; the recorded bound lets the reader tell
        a run that makes progress from one stuck on anything.
        """
        done = threading.Event()

        def keep_beating() -> None:
            while not done.wait(BEAT_SECONDS):
                self.beat()

        self._write({**self._started(), "busy_since": _text(since), "busy_until": _text(until)})
        thread = threading.Thread(target=keep_beating, name="heartbeat", daemon=True)
        thread.start()
        try:
            yield
        finally:
            done.set()
            self._write(self._started())

    def age(self) -> float:
        """Return the seconds since the last beat.

        Raises:
            ControllerError: there was never a beat (no scheduler has run here),
                or the file is not one this user made (a file someone else
                planted says nothing about the scheduler).
        """
        return max(0.0, time.time() - self._status().st_mtime)

    def _started(self) -> dict[str, str]:
        started = self._content().get("started_at")
        return {"started_at": started} if isinstance(started, str) else {}

    def _content(self) -> dict[str, object]:
        try:
            self._status()
            content = json.loads(self.path.read_bytes())
        except (ControllerError, OSError, ValueError):
            return {}
        return content if isinstance(content, dict) else {}

    def _write(self, content: dict[str, str]) -> None:
        """Replace the content by ``content`` (a beat too); never fails the scheduler."""
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW
            descriptor = os.open(self.path, flags, 0o600)
            try:
                os.write(descriptor, json.dumps(content).encode())
            finally:
                os.close(descriptor)

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


def _text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _time(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None
