"""Use cases that take and keep backups: dump, share, prune, scheduled runs."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import PurePath
from zoneinfo import ZoneInfo

import attrs

from pg_backup_manager.domain.errors import ControllerError, ToolError
from pg_backup_manager.domain.model import Backup, BackupName, Config, Database, Tier
from pg_backup_manager.domain.policy import RetentionPlan, plan_retention, tier_for
from pg_backup_manager.domain.ports import (
    ArchiveChecker,
    BackupStore,
    Clock,
    DatabaseServer,
    Dumper,
    Locks,
)
from pg_backup_manager.domain.swap import missing_target_error, set_aside_copies

log = logging.getLogger(__name__)


@attrs.frozen(kw_only=True)
class BackupPorts:
    """The ports every backup use case works through."""

    clock: Clock
    store: BackupStore
    dumper: Dumper
    checker: ArchiveChecker
    locks: Locks
    server: DatabaseServer | None = None


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
    *, database: Database, tier: Tier, ports: BackupPorts, shared: bool = False
) -> DumpOutcome:
    """Dump ``database`` into a new backup of ``tier`` under its lock, and share it if asked.

    Returns the outcome; a failure (a busy lock included) is reported in it,
    not raised, and leaves no file that could be taken for a backup. Signals
    (``BaseException``) pass.
    """
    try:
        with ports.locks.hold(database.identifier):
            backup = write_backup(database=database, tier=tier, ports=ports)
            if not shared:
                return DumpOutcome(database=database, backup=backup)
            try:
                copy = ports.store.share(database.identifier, backup.name)
            except ControllerError as error:
                return DumpOutcome(database=database, backup=backup, error=error)
            return DumpOutcome(database=database, backup=backup, shared_copy=copy)
    except ControllerError as error:
        return DumpOutcome(database=database, error=error)


def write_backup(*, database: Database, tier: Tier, ports: BackupPorts) -> Backup:
    """Dump ``database`` into a new, checked and checksummed backup; the caller holds the lock.

    The archive counts only once ``pg_restore`` has read all of it; its SHA-256
    comes from that same read.

    Raises:
        ControllerError: the dump or its check failed; no backup was made.
    """
    name = _free_name(
        BackupName.for_run(tier=tier, at=ports.clock.now()),
        taken={backup.name.taken_at for backup in ports.store.backups(database.identifier)},
    )

    def dump_and_check(target: PurePath) -> str:
        try:
            ports.dumper.dump(database, target)
        except ToolError:
            _explain_a_missing_target(database, ports.server)
            raise
        return ports.checker.check(target)

    return ports.store.write(database.identifier, name, dump_and_check)


def _explain_a_missing_target(database: Database, server: DatabaseServer | None) -> None:
    """Raise the error that says where the content is, if a killed restore set it aside."""
    if server is None:
        return
    try:
        asides = set_aside_copies(database=database, server=server)
    except ControllerError:
        return  # the server is unreachable: the dump's own error says so
    if asides:
        raise missing_target_error(database, asides[0])


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
    ports: BackupPorts,
    shared: bool = False,
    parallelism: int = 1,
) -> list[DumpOutcome]:
    """Dump ``databases``, up to ``parallelism`` at once, going on past failures.

    Returns the outcomes in the order of ``databases``. If the caller is
    interrupted (a stop signal), dumps not yet started are cancelled.
    """
    if parallelism <= 1 or len(databases) <= 1:
        return [
            dump_database(database=database, tier=tier, ports=ports, shared=shared)
            for database in databases
        ]
    with ThreadPoolExecutor(max_workers=parallelism, thread_name_prefix="dump") as pool:
        futures: list[Future[DumpOutcome]] = [
            pool.submit(dump_database, database=database, tier=tier, ports=ports, shared=shared)
            for database in databases
        ]
        try:
            return [future.result() for future in futures]
        except BaseException:
            for future in futures:
                future.cancel()
            raise


def prune(
    *, database: Database, ports: BackupPorts, min_kept: int = 1, dry_run: bool = False
) -> RetentionPlan:
    """Apply retention to the backups of ``database`` under its lock; return the plan.

    Only files that are backups are ever judged; with ``dry_run`` nothing is
    deleted and the returned plan says what would be.

    Raises:
        BusyError: another operation holds the database's lock.
    """
    with ports.locks.hold(database.identifier):
        plan = plan_retention(
            (backup.name for backup in ports.store.backups(database.identifier)),
            now=ports.clock.now(),
            min_kept=min_kept,
        )
        if not dry_run:
            for name in plan.to_delete:
                ports.store.delete(database.identifier, name)
    return plan


def scheduled_run(*, config: Config, ports: BackupPorts) -> list[DumpOutcome]:
    """Run one scheduled backup of every database; return the outcomes.

    The tier comes from the local date in ``TZ``. Each database is dumped (and
    copied to shared when ``COPING_TO_SHARED`` is on); retention then runs for
    each database whose dump succeeded, never for one that failed.
    """
    tier = tier_of_run(ports.clock.now(), timezone=config.timezone)
    outcomes = dump_databases(
        databases=config.databases,
        tier=tier,
        ports=ports,
        shared=config.copy_to_shared,
        parallelism=config.parallelism,
    )
    for outcome in outcomes:
        identifier = outcome.database.identifier
        if outcome.backup is None:
            log.error("%s: dump failed: %s", identifier, outcome.error)
            continue
        log.info("%s: created %s", identifier, outcome.backup.name)
        if outcome.error is not None:
            log.error("%s: %s", identifier, outcome.error)
        try:
            plan = prune(database=outcome.database, ports=ports, min_kept=config.min_kept)
        except ControllerError as error:
            log.error("%s: retention failed: %s", identifier, error)
            continue
        for verdict in plan.verdicts:
            if not verdict.keep:
                log.info("%s: deleted %s (%s)", identifier, verdict.name, verdict.reason)
            elif "future" in verdict.reason:
                log.warning("%s: %s is %s", identifier, verdict.name, verdict.reason)
    return outcomes
