"""One backup run, composed once for ``dump``, every scheduled run and ``BACKUP_ON_START``.

Its steps, in order, all in :meth:`BackupRun._run`:

0. list: each service with every database of its server (``<SERVICE>_POSTGRES_DB=*``)
   becomes the databases its server has now, each backed up as a database of its own
   (:class:`~pg_backup_manager.domain.backups.server_runs.ExpandRun`);
1. take: every database dumped under its lock, between the commands set to run before
   and after its backup (:mod:`~pg_backup_manager.domain.backups.hooks`), copied to
   shared if asked (:class:`~pg_backup_manager.domain.backups.dumping.TakeBackups`);
2. upload: what each database that got a new backup misses off-site, oldest first
   (:mod:`~pg_backup_manager.domain.backups.offsite_steps`; nothing without ``OFFSITE_URL``);
3. prune (scheduled runs): retention for each database whose dump succeeded, and for each
   that is no longer on its server (dropped, or excluded since), and off-site for each
   whose uploads all succeeded and each no longer on its server;
4. record: each step leaves one record per database in its history as it ends, and
5. tell: each record is notified as it is written (the
   :class:`~pg_backup_manager.domain.monitoring.telling.Journal` the steps record
   through); a scheduled run also pings the dead-man's switch at its start and, with
   what failed (:attr:`RunReport.failures`), at its end.

A new step goes here once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import attrs

from pg_backup_manager.domain.backups.dumping import DumpReport, TakeBackups
from pg_backup_manager.domain.backups.offsite_steps import (
    OffsiteAfterBackup,
    Retention,
    retained,
)
from pg_backup_manager.domain.backups.pruning import Prune
from pg_backup_manager.domain.backups.server_runs import ExpandRun
from pg_backup_manager.domain.errors import one_line
from pg_backup_manager.domain.history import Operation
from pg_backup_manager.domain.model import Database
from pg_backup_manager.domain.monitoring.telling import Tell
from pg_backup_manager.domain.names import Tier


class OffsiteSteps(Protocol):
    """What a run does off-site (see :mod:`~pg_backup_manager.domain.backups.offsite_steps`)."""

    def upload(self, dumps: DumpReport) -> tuple[OffsiteAfterBackup, ...]:
        """Upload what each database with a new backup misses off-site; never raise."""

    def prune(self, uploads: Sequence[OffsiteAfterBackup]) -> tuple[Retention, ...]:
        """Apply retention off-site where every upload succeeded; never raise."""

    def prune_kept(self, databases: Sequence[Database]) -> tuple[Retention, ...]:
        """Apply retention off-site to databases that got no new backup; never raise."""


@attrs.frozen(kw_only=True)
class RunReport:
    """What one backup run did: its dumps, their uploads, and (scheduled runs) retention,
    locally and off-site."""

    dumps: DumpReport
    offsite: tuple[OffsiteAfterBackup, ...] = ()
    pruned: tuple[Retention, ...] = ()
    pruned_offsite: tuple[Retention, ...] = ()

    @property
    def failures(self) -> dict[str, str]:
        """Return the one-line error of each database the run failed: its dump's, or else
        its new backup's not being off-site (it exists, but only on this host)."""
        failed = {
            result.database.identifier: one_line(result.error)
            for result in self.dumps.failed
            if result.error is not None
        }
        for upload in self.offsite:
            if upload.problem is not None:
                failed.setdefault(upload.sync.database.identifier, upload.problem)
        return failed

    @property
    def exit_code(self) -> int:
        """Return the dumps' exit code, or 1 when a new backup is not off-site yet."""
        if self.dumps.exit_code:
            return self.dumps.exit_code
        return 0 if all(upload.succeeded for upload in self.offsite) else 1


@attrs.frozen(kw_only=True)
class BackupRun:
    """Takes new backups, uploads them, prunes, records and tells; see the module.

    Every failure is in the report, none is raised (a stop signal goes on).
    """

    expand: ExpandRun
    take_backups: TakeBackups
    offsite: OffsiteSteps
    prune: Prune
    tell: Tell

    def dump(
        self, databases: Sequence[Database], *, tier: Tier | None = None, share: bool = False
    ) -> RunReport:
        """``dump``: back up ``databases`` (``tier`` None: the tier of the day), copy them to
        shared with ``share``, and upload; no retention, no ping."""
        return self._run(databases, tier=tier, share=share, scheduled=False)

    def scheduled(self, databases: Sequence[Database], *, share: bool) -> RunReport:
        """A scheduled run (or ``BACKUP_ON_START``): back up, share with ``share``, upload,
        apply retention, and ping at the start and at the end."""
        return self._run(databases, tier=None, share=share, scheduled=True)

    def _run(
        self, databases: Sequence[Database], *, tier: Tier | None, share: bool, scheduled: bool
    ) -> RunReport:
        identifiers = [database.identifier for database in databases]
        if scheduled:
            self.tell.run_started(identifiers)
        operation = Operation.SCHEDULED if scheduled else Operation.DUMP
        targets = self.expand(databases)
        dumps = self.take_backups(
            targets.databases,
            tier=tier,
            share=share,
            operation=operation,
            unlisted=targets.unlisted,
        )
        # Uploads come before retention, so the oldest backups, those retention may
        # delete, go off-site first.
        uploads = self.offsite.upload(dumps)
        report = RunReport(dumps=dumps, offsite=uploads)
        if scheduled:
            report = attrs.evolve(
                report,
                pruned=tuple(
                    retained(self.prune.one, database)
                    for database in [
                        # never prune a database whose dump failed
                        *(result.database for result in dumps.results if result.backup is not None),
                        *targets.gone,  # its backups age out, the newest ones kept
                    ]
                ),
                pruned_offsite=(
                    self.offsite.prune(uploads) + self.offsite.prune_kept(targets.gone)
                ),
            )
            self.tell.run_ended(identifiers, report.failures)
        return report
