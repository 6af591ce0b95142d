"""``health``: is the scheduler alive?"""

from __future__ import annotations

import attrs

from pg_backup_manager.domain.ports import Heartbeat


@attrs.frozen(kw_only=True)
class Liveness:
    """How old the scheduler's last heartbeat is, against how old it may be."""

    age: float
    max_age: float

    @property
    def alive(self) -> bool:
        """Return whether the heartbeat is fresh enough."""
        return self.age <= self.max_age


def check_liveness(*, heartbeat: Heartbeat, max_age: float) -> Liveness:
    """Return the liveness of the scheduler that beats ``heartbeat``.

    Raises:
        ControllerError: there is no heartbeat of this controller's.
    """
    return Liveness(age=heartbeat.age(), max_age=max_age)
