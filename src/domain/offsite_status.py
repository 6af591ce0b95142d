"""Is every local backup off-site? Read from the run history, never from the store, so that
``status`` and the metrics answer at once, and also while the store is down.

Each ``sync`` records which local backups it left not off-site. A backup is off-site
once a sync that started after it was taken confirmed it: one that succeeded, or
one that failed without naming it. It counts as off-site from then on, even when a
later sync cannot reach the store to check it again (the store is not asked here).
A backup no sync confirmed (made since the last one, or while the store was down)
is missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

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


def offsite_status(backups: Sequence[Backup], history: Sequence[RunRecord]) -> OffsiteStatus:
    """Return the off-site status of a database from its local backups (newest first) and
    its history (oldest first); see the module's docstring."""
    syncs = [record for record in history if record.operation is Operation.SYNC]
    successes = [r for r in syncs if r.outcome is Outcome.SUCCESS]
    failures = [r for r in syncs if r.outcome is Outcome.FAILURE]
    confirmed = _Confirmations.of(successes, failures)
    return OffsiteStatus(
        backups=len(backups),
        missing=tuple(backup.name for backup in backups if not confirmed(backup.name)),
        newest=backups[0].name if backups else None,
        last_sync=syncs[-1] if syncs else None,
        last_success=successes[-1] if successes else None,
        last_failure=failures[-1] if failures else None,
    )


@attrs.frozen(kw_only=True)
class _Confirmations:
    """What the syncs confirmed: every backup taken by the start of the last successful one
    (``covered``), and of each later failed sync that could tell, the backups taken by
    its start that it did not name.

    Names are to the second, like the history's times: a backup taken in the
    second its sync started counts as that sync's.
    """

    covered: datetime | None
    partial: tuple[tuple[datetime, frozenset[str]], ...]

    @classmethod
    def of(cls, successes: Sequence[RunRecord], failures: Sequence[RunRecord]) -> _Confirmations:
        """Return what ``successes`` and ``failures`` (syncs, oldest first) confirmed."""
        covered = max((sync.started_at for sync in successes), default=None)
        return cls(
            covered=covered,
            partial=tuple(
                (sync.started_at, frozenset(sync.not_offsite))
                for sync in failures
                if sync.not_offsite is not None and (covered is None or sync.started_at > covered)
            ),
        )

    def __call__(self, name: BackupName) -> bool:
        """Return whether a sync found backup ``name`` off-site (or put it there)."""
        if self.covered is not None and name.taken_at <= self.covered:
            return True
        return any(
            name.taken_at <= started and str(name) not in left for started, left in self.partial
        )
