"""Is every local backup off-site? Read from the run history, never from the store, so that
``status`` and the metrics answer at once, and also while the store is down.

Each ``sync`` records the name and SHA-256 of every local backup it confirmed off-site
(found in the store with that size and checksum, or uploaded), whatever its outcome.
A local backup is off-site once a sync confirmed that exact name with that exact
checksum (the one its ``.sha256`` file holds now), unless a later sync found its copy
unusable (a companion lost, a checksum object that disagrees) and could not complete it.
It counts as off-site from then on, even when a later sync cannot reach the store to
check it again (the store is not asked here). A backup no sync confirmed (made since
the last one, made while the store was down, renamed, or replaced by other content
under the same name) is missing: time alone never confirms anything, and neither does
a record written before syncs said what they confirmed.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from pg_backup_manager.domain.history import Operation, Outcome, RunRecord
from pg_backup_manager.domain.names import Backup, BackupName


@attrs.frozen(kw_only=True)
class OffsiteStatus:
    """Which local backups of a database are not off-site, and how its syncs last ended."""

    backups: int  # the local backups
    missing: tuple[BackupName, ...]  # those no sync confirmed off-site, newest first
    newest: BackupName | None  # the newest local backup (None: none)
    last_sync: RunRecord | None  # the last sync, whatever its outcome (None: no sync yet)
    last_success: RunRecord | None  # the last sync that succeeded
    last_failure: RunRecord | None  # the last sync that failed

    @property
    def complete(self) -> bool:
        """Return whether every local backup is off-site."""
        return not self.missing

    @property
    def newest_missing(self) -> bool:
        """Return whether the newest local backup is not off-site."""
        return self.newest is not None and self.newest in self.missing


def offsite_status(
    backups: Sequence[Backup], history: Sequence[RunRecord], *, newest: Backup | None
) -> OffsiteStatus:
    """Return the off-site status of a database from its local backups (newest first, each
    with the SHA-256 its checksum file records, None without one; only those that
    :func:`judged_offsite` maps to a SHA-256 need it) and its history (oldest first); see
    the module's docstring. ``newest`` is the backup that freshness judges
    (not one dated in the future)."""
    syncs = [record for record in history if record.operation is Operation.SYNC]
    successes = [r for r in syncs if r.outcome is Outcome.SUCCESS]
    failures = [r for r in syncs if r.outcome is Outcome.FAILURE]
    found = judged_offsite(syncs)
    return OffsiteStatus(
        backups=len(backups),
        missing=tuple(
            backup.name
            for backup in backups
            if backup.sha256 is None or found.get(str(backup.name)) != backup.sha256
        ),
        newest=None if newest is None else newest.name,
        last_sync=syncs[-1] if syncs else None,
        last_success=successes[-1] if successes else None,
        last_failure=failures[-1] if failures else None,
    )


def judged_offsite(history: Sequence[RunRecord]) -> dict[str, str | None]:
    """Return what the newest sync of ``history`` (oldest first) that judged each backup's
    name found: its SHA-256 off-site, or None when the copy was there but unusable (lost
    its checksum, or the checksum disagrees). A backup whose name it maps to None, or not
    at all, is missing whatever its checksum file says: only the others need it read."""
    found: dict[str, str | None] = {}
    for sync in history:  # oldest first: a later judgement replaces an earlier one
        if sync.operation is Operation.SYNC:
            found.update(dict(sync.confirmed_offsite or ()))
            found.update(dict.fromkeys(sync.unusable_offsite or ()))
    return found
