"""The restore swap as a plan: which databases a restore makes, renames and drops."""

from __future__ import annotations

from datetime import datetime

import attrs

from pg_backup_manager.domain.model import Database
from pg_backup_manager.domain.restore.recovery import scratch_names
from pg_backup_manager.domain.restore.scratch import Purpose


@attrs.frozen(kw_only=True)
class SwapPlan:
    """How a restore replaces ``target`` with the content loaded into ``scratch``.

    ``aside`` is where the old target goes during the swap; None when there is
    no target yet (a new environment), and the scratch database simply takes
    the name.
    """

    target: str
    scratch: str
    marker: str
    aside: str | None


def plan_swap(database: Database, *, target_exists: bool, now: datetime) -> SwapPlan:
    """Return the swap of a restore of ``database`` started at ``now``."""
    names = scratch_names(database)
    return SwapPlan(
        target=database.dbname,
        scratch=names.name(Purpose.RESTORE, now),
        marker=names.marker(Purpose.RESTORE),
        aside=names.name(Purpose.REPLACED, now) if target_exists else None,
    )
