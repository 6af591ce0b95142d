"""Use cases that take and keep backups: dump, share, prune, scheduled runs."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import PurePath
from zoneinfo import ZoneInfo

import attrs

from pg_backup_manager.domain.errors import ControllerError
from pg_backup_manager.domain.model import Backup, BackupName, Config, Database, Tier
from pg_backup_manager.domain.policy import RetentionPlan, plan_retention, tier_for
from pg_backup_manager.domain.ports import BackupStore, Clock, Dumper

log = logging.getLogger(__name__)


@attrs.frozen(kw_only=True)
class DumpOutcome:
    """What happened to one database in a run: its backup, or why there is none."""

    database: Database
    backup: Backup | None = None
    shared_copy: PurePath | None = None
    error: ControllerError | None = None

    @property
    def succeeded(self) -> bool:
        """Return whether the backup (and its shared copy, if asked for) exists."""
        return self.error is None


def tier_of_run(at: datetime, *, timezone: str) -> Tier:
    """Return the tier of a run at ``at``, judged on its local date in ``timezone``."""
    return tier_for(at.astimezone(ZoneInfo(timezone)).date())


def dump_database(
    *,
    database: Database,
    tier: Tier,
    clock: Clock,
    store: BackupStore,
    dumper: Dumper,
    shared: bool = False,
) -> DumpOutcome:
    """Dump ``database`` into a new backup of ``tier``, and share it if asked.

    Returns the outcome; a failure is reported in it, not raised, and leaves
    no file that could be taken for a backup. Signals (``BaseException``) pass.
    """
    name = _free_name(
        BackupName.for_run(tier=tier, at=clock.now()),
        taken={backup.name.taken_at for backup in store.backups(database.identifier)},
    )
    try:
        backup = store.write(
            database.identifier, name, lambda target: dumper.dump(database, target)
        )
    except ControllerError as error:
        return DumpOutcome(database=database, error=error)
    if not shared:
        return DumpOutcome(database=database, backup=backup)
    try:
        copy = store.share(database.identifier, backup.name)
    except ControllerError as error:
        return DumpOutcome(database=database, backup=backup, error=error)
    return DumpOutcome(database=database, backup=backup, shared_copy=copy)


def _free_name(name: BackupName, *, taken: set[datetime]) -> BackupName:
    """Return ``name``, moved on by whole seconds past the times already taken.

    Two runs in one second (a manual dump right after a scheduled one) would
    otherwise collide; one backup per second and database keeps names unique.
    """
    at = name.taken_at
    while at in taken:
        at += timedelta(seconds=1)
    return BackupName.for_run(tier=name.tier, at=at)


def dump_databases(
    *,
    databases: Sequence[Database],
    tier: Tier,
    clock: Clock,
    store: BackupStore,
    dumper: Dumper,
    shared: bool = False,
) -> list[DumpOutcome]:
    """Dump each of ``databases`` in turn, going on past failures; return every outcome."""
    return [
        dump_database(
            database=database, tier=tier, clock=clock, store=store, dumper=dumper, shared=shared
        )
        for database in databases
    ]


def prune(
    *, database: Database, clock: Clock, store: BackupStore, dry_run: bool = False
) -> RetentionPlan:
    """Apply retention to the backups of ``database``; return the plan it carried out.

    With ``dry_run`` nothing is deleted and the returned plan says what would be.
    """
    plan = plan_retention(
        (backup.name for backup in store.backups(database.identifier)), now=clock.now()
    )
    if not dry_run:
        for name in plan.to_delete:
            store.delete(database.identifier, name)
    return plan


def scheduled_run(
    *, config: Config, clock: Clock, store: BackupStore, dumper: Dumper
) -> list[DumpOutcome]:
    """Run one scheduled backup of every database; return the outcomes.

    The tier comes from the local date in ``TZ``. Each database is dumped (and
    copied to shared when ``COPING_TO_SHARED`` is on); retention then runs for
    each database whose dump succeeded, never for one that failed.
    """
    tier = tier_of_run(clock.now(), timezone=config.timezone)
    outcomes = dump_databases(
        databases=config.databases,
        tier=tier,
        clock=clock,
        store=store,
        dumper=dumper,
        shared=config.copy_to_shared,
    )
    for outcome in outcomes:
        if outcome.backup is None:
            log.error("%s: dump failed: %s", outcome.database.identifier, outcome.error)
            continue
        log.info("%s: created %s", outcome.database.identifier, outcome.backup.name)
        if outcome.error is not None:
            log.error("%s: %s", outcome.database.identifier, outcome.error)
        try:
            plan = prune(database=outcome.database, clock=clock, store=store)
        except ControllerError as error:
            log.error("%s: retention failed: %s", outcome.database.identifier, error)
            continue
        for verdict in plan.verdicts:
            if not verdict.keep:
                log.info(
                    "%s: deleted %s (%s)", outcome.database.identifier, verdict.name, verdict.reason
                )
    return outcomes
