"""The real clock."""

from __future__ import annotations

import time
from datetime import UTC, datetime


class SystemClock:
    """The system's time, always returned in UTC (local time is the domain's business)."""

    def now(self) -> datetime:
        """Return the current time as an aware UTC datetime."""
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        """Block for ``seconds``; a signal handler that raises interrupts it."""
        time.sleep(max(seconds, 0.0))
