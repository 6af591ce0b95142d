"""What ``controller start`` logs of each scheduled run, database by database: its backup
or failure, then what went off-site and what retention deleted, locally and off-site.
Pure: it returns (level, message) pairs, the scheduler logs them."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from pg_backup_manager.domain.backups.offsite_steps import PruneFailure
from pg_backup_manager.domain.backups.policy import Why
from pg_backup_manager.domain.errors import BusyError
from pg_backup_manager.entrypoints.rendering.backups import (
    completed,
    created,
    reason,
    unusable,
)

if TYPE_CHECKING:
    from pg_backup_manager.domain.backups.backup_run import RunReport
    from pg_backup_manager.domain.backups.offsite_steps import Retention

Logged = tuple[int, str]


def run_lines(report: RunReport) -> list[Logged]:
    """Return what to log of a scheduled run, with the level of each line."""
    lines: list[Logged] = []
    pruned = {result.database.identifier: result for result in report.pruned}
    offsite = {upload.sync.database.identifier: upload for upload in report.offsite}
    pruned_offsite = {result.database.identifier: result for result in report.pruned_offsite}
    for result in report.dumps.results:
        identifier = result.database.identifier
        if isinstance(result.error, BusyError):
            lines.append((logging.WARNING, f"{identifier}: skipped, not stacked: {result.error}"))
            continue
        if result.backup is None:
            lines.append((logging.ERROR, f"{identifier}: dump failed: {result.error}"))
            continue
        lines.append((logging.INFO, created(identifier, result.backup)))
        if result.error is not None:
            lines.append((logging.ERROR, f"{identifier}: {result.error}"))
        upload = offsite.get(identifier)
        if upload is not None:
            for copy in upload.sync.uploaded:
                lines.append((logging.INFO, f"{identifier}: uploaded {copy.name} off-site"))
            for copy in upload.sync.completed:
                lines.append((logging.INFO, f"{identifier}: {completed(copy)} off-site"))
            if upload.problem is not None:
                lines.append((logging.ERROR, f"{identifier}: {upload.problem}"))
        lines += _retention(identifier, pruned.get(identifier), "")
        lines += _retention(identifier, pruned_offsite.get(identifier), "off-site ")
    return lines


def _retention(identifier: str, retention: Retention | None, where: str) -> list[Logged]:
    """Return what retention (``where``: "" or "off-site ") deleted, or why it failed."""
    if retention is None:
        return []
    if isinstance(retention, PruneFailure):
        return [(logging.ERROR, f"{identifier}: {where}retention failed: {retention.error}")]
    lines = []
    for verdict in retention.plan.verdicts:
        if not verdict.keep:
            lines.append(
                (logging.INFO, f"{identifier}: deleted {where}{verdict.name} ({reason(verdict)})")
            )
        elif verdict.why is Why.FUTURE:
            lines.append(
                (logging.WARNING, f"{identifier}: {where}{verdict.name} is {reason(verdict)}")
            )
    for copy in retention.unusable:
        lines.append((logging.WARNING, f"{identifier}: {where}{copy.name} is {unusable(copy)}"))
    return lines
