"""The JSON documents of ``list --json`` and ``status --json`` (schema 1).

Stable field names, times in RFC 3339 UTC with ``Z``, sizes in bytes; nothing
but the document goes to standard output. Pure: each returns the document's text.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pg_backup_manager.domain.history import RunRecord
from pg_backup_manager.domain.monitoring.freshness import DatabaseStatus
from pg_backup_manager.domain.names import Backup
from pg_backup_manager.domain.offsite.status import OffsiteStatus
from pg_backup_manager.domain.offsite_copies import OffsiteCopy

if TYPE_CHECKING:  # each command imports only the use cases it runs
    from pg_backup_manager.domain.backups.listing import ListReport
    from pg_backup_manager.domain.offsite.listing import OffsiteListReport

SCHEMA = 1


def backups(report: ListReport) -> str:
    """Return ``{"schema": 1, "backups": [...]}`` of a ``list``, newest first each (the
    backups carry their checksums: ``list --json`` asks for them)."""
    entries = [
        backup_entry(listing.database.identifier, backup, backup.sha256)
        for listing in report.listings
        for backup in listing.backups
    ]
    return _text({"schema": SCHEMA, "backups": entries})


def offsite_copies(report: OffsiteListReport) -> str:
    """Return ``{"schema": 1, "backups": [...]}`` of the off-site copies of a
    ``list --remote``, newest first each; ``location`` is the copy's key as a URL."""
    entries = [
        offsite_entry(listing.database.identifier, copy, listing.location)
        for listing in report.listings
        for copy in listing.copies
    ]
    return _text({"schema": SCHEMA, "backups": entries})


def offsite_entry(identifier: str, copy: OffsiteCopy, location: str) -> dict[str, Any]:
    """Return one off-site copy as the documents show it."""
    return {
        "database": identifier,
        "name": str(copy.name),
        "tier": copy.name.tier.value,
        "taken_at": time(copy.name.taken_at),
        "size_bytes": copy.size,
        "sha256": copy.sha256,
        "globals": copy.name.globals_name if copy.has_globals else None,
        "location": f"{location}{copy.name}",
        "usable": copy.usable,
        "problem": copy.problem,
        "partial": copy.partial,
        "left_out": list(copy.left_out),
    }


def statuses(statuses: Sequence[DatabaseStatus]) -> str:
    """Return ``{"schema": 1, "databases": [...]}`` (the newest backup of each status
    carries its checksum); a database with WAL archiving on has its ``pitr`` object, and
    with VERIFY_SCHEDULE set each has its ``verify`` object."""
    from pg_backup_manager.entrypoints.rendering.pitr_status import pitr_entry  # its own
    from pg_backup_manager.entrypoints.rendering.verification import verify_entry

    entries: list[dict[str, Any]] = []
    for status in statuses:
        newest = status.newest
        identifier = status.database.identifier
        entries.append(
            {
                "database": identifier,
                "healthy": status.healthy,
                "newest_backup": (
                    None if newest is None else backup_entry(identifier, newest, newest.sha256)
                ),
                "newest_backup_age_seconds": (
                    None if status.newest_age is None else int(status.newest_age.total_seconds())
                ),
                "last_success_at": time(_finished(status.last_success)),
                "last_failure_at": time(_finished(status.last_failure)),
                "last_error": status.last_failure.error if status.last_failure else None,
                "consecutive_failures": status.consecutive_failures,
                "backups_by_tier": {
                    tier.value: count for tier, count in status.backups_by_tier.items()
                },
                "total_bytes": status.total_bytes,
                "next_run_at": time(status.next_run_at),
                "max_age_seconds": int(status.max_age.total_seconds()),
                "future_backups": [str(name) for name in status.future],
                "history_unreadable_lines": status.history_unreadable_lines,
                "on_server": status.on_server,
                "judged": status.judged,
            }
        )
        if status.offsite is not None:  # only with OFFSITE_URL set
            entries[-1]["offsite"] = offsite_status_entry(status.offsite)
        if status.pitr is not None:  # only with <SERVICE>_WAL_ARCHIVE=true
            entries[-1]["pitr"] = pitr_entry(status.pitr)
        if status.verification is not None:  # only with VERIFY_SCHEDULE set
            entries[-1]["verify"] = verify_entry(status.verification)
    return _text({"schema": SCHEMA, "databases": entries})


def offsite_status_entry(found: OffsiteStatus) -> dict[str, Any]:
    """Return what ``status --json`` says of a database's off-site copies: ``state`` ok or
    missing, the backups not off-site (newest first), whether the newest backup is
    off-site (null without backups) and the last sync of each outcome."""
    return {
        "state": "ok" if found.complete else "missing",
        "missing_backups": [str(name) for name in found.missing],
        "newest_backup_offsite": None if found.newest is None else not found.newest_missing,
        "last_success_at": time(_finished(found.last_success)),
        "last_failure_at": time(_finished(found.last_failure)),
        "last_error": found.last_failure.error if found.last_failure else None,
    }


def backup_entry(identifier: str, backup: Backup, sha256: str | None) -> dict[str, Any]:
    """Return one backup as the documents show it."""
    return {
        "database": identifier,
        "name": str(backup.name),
        "tier": backup.name.tier.value,
        "taken_at": time(backup.name.taken_at),
        "size_bytes": backup.size,
        "sha256": sha256,
        "globals": backup.name.globals_name if backup.has_globals else None,
        "partial": backup.partial,
        "left_out": list(backup.left_out),
    }


def time(moment: datetime | None) -> str | None:
    """Return ``moment`` in RFC 3339, UTC, with ``Z``; None stays None."""
    return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _finished(record: RunRecord | None) -> datetime | None:
    return None if record is None else record.finished_at


def _text(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2)
