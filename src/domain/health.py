"""``health``: is the scheduler alive?"""

from __future__ import annotations

import attrs


@attrs.frozen(kw_only=True)
class Liveness:
    """How old the scheduler's last heartbeat is, against how old it may be."""

    age: float
    max_age: float

    @property
    def alive(self) -> bool:
        """Return whether the heartbeat is fresh enough."""
        return self.age <= self.max_age
