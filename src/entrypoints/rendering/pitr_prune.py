"""What ``prune`` prints of point-in-time retention, per service: each stream, each
base backup with what happens to it and why, the WAL as ranges of segments (never one
line per segment: a stream holds thousands), a count, and each deletion that failed.
Pure: it returns lines."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from itertools import groupby
from typing import TYPE_CHECKING

from pg_backup_manager.domain.pitr.retention import BaseVerdict, SegmentVerdict, Why
from pg_backup_manager.entrypoints.rendering.backups import Line, block, error, size

if TYPE_CHECKING:  # each command imports only the use cases it runs
    from pg_backup_manager.domain.pitr.pruning import PitrPruneResult


def pitr_prune(result: PitrPruneResult) -> list[Line]:
    """Return the plan of one service as one block, its count, then one error line per
    deletion that failed."""
    identifier = result.database.identifier
    deleting = "would delete" if result.dry_run else "delete"
    lines = []
    for plan in result.plan.streams:
        verdict = "keep" if plan.keep else deleting
        lines.append(f"{identifier}: PITR stream {plan.stream.name}: {verdict} ({plan.why.value})")
        lines += [
            f"{identifier}:   {_verb(v.keep, deleting)} base {v.base.name} "
            f"({_base_reason(v, result.at)})"
            for v in plan.base_backups
        ]
        lines += [
            f"{identifier}:   {_verb(keep, deleting)} WAL {_range(list(run))}"
            for keep, run in groupby(plan.segments, key=lambda v: v.keep)
        ]
    lines.append(f"{identifier}: PITR: {_count(result)}")
    return [block(lines)] + [error(f"prune {identifier}: {failure}") for failure in result.failures]


def _verb(keep: bool, deleting: str) -> str:
    return "keep  " if keep else deleting


def _base_reason(verdict: BaseVerdict, at: datetime) -> str:
    if verdict.why is Why.FUTURE:
        return "dated in the future: is the clock wrong?"
    days = (at - verdict.base.started_at).total_seconds() / 86400
    return f"{days:.1f} days old, {verdict.why.value}"


def _range(run: Sequence[SegmentVerdict]) -> str:
    first, last = run[0].segment, run[-1].segment
    named = first.name if first == last else f"{first.name} .. {last.name}"
    why = ", ".join(dict.fromkeys(v.why.value for v in run))
    total = size(sum(v.segment.size for v in run))
    return f"{named} ({len(run)} segments, {total}: {why})"


def _count(result: PitrPruneResult) -> str:
    from pg_backup_manager.domain.pitr.pruning import Deleted  # only when prune runs

    every = result.plan.streams
    done = Deleted.planned(result.plan) if result.dry_run else result.deleted
    said = "would be deleted" if result.dry_run else "deleted"
    bases = sum(len(p.base_backups) for p in every)
    segments = sum(len(p.segments) for p in every)
    return (
        f"{done.base_backups} of {bases} base backups, {done.segments} of {segments} WAL "
        f"segments, {done.streams} of {len(every)} streams {said}"
    )
