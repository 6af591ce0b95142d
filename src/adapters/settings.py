"""The controller's environment, read once and checked strictly, into domain values.

Each variable is declared once in :mod:`pg_backup_manager.adapters.configuration`: its
name, parser and default come from there; here is only how they combine."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path

import attrs

from pg_backup_manager.adapters.configuration import core, monitoring, pitr, services
from pg_backup_manager.adapters.configuration.dump_args import dump_options
from pg_backup_manager.adapters.configuration.hooks import HookSettings, hook_settings
from pg_backup_manager.adapters.configuration.verification import verify_schedule
from pg_backup_manager.adapters.cron import CronSchedule
from pg_backup_manager.adapters.offsite.settings import OffsiteSettings, offsite
from pg_backup_manager.adapters.retention_settings import Retention, retention
from pg_backup_manager.domain.backups.timetable import Schedules
from pg_backup_manager.domain.errors import ConfigurationError
from pg_backup_manager.domain.model import Config, Database, Layout
from pg_backup_manager.domain.monitoring.freshness import MaxAges
from pg_backup_manager.domain.verification.model import VerifySchedule

PRODUCTION_ROOT = Path("/var/lib/postgresql")
DEVELOPMENT_ROOT = Path("backup-data")
# Beside the backup directories, where only the controller's user may write.
HEARTBEAT_NAME = ".heartbeat"
MAX_DEFAULT_JOBS = 4
# Where a service with <SERVICE>_POSTGRES_DB=* connects to list (and, for WAL archiving,
# to check) its server's databases.
MAINTENANCE_DATABASE = "postgres"


@attrs.frozen(kw_only=True)
class Settings:
    """The domain's :class:`Config` plus what only the adapters need."""

    config: Config
    bin_root: Path
    bin_dir: Path | None
    schedule: CronSchedule
    base_backup_schedule: CronSchedule
    dump_timeout: float
    heartbeat_file: Path
    monitoring: Monitoring
    compression: str | None = None
    restore_jobs: int = 1
    lock_wait: float = 30.0
    file_mode: int = 0o600
    admin_timeout: float = 300.0
    offsite: OffsiteSettings | None = None
    pitr_retention_days: int = 7
    retention: Retention = attrs.field(factory=Retention)  # KEEP_*, OFFSITE_KEEP_*
    hooks: HookSettings = attrs.field(factory=HookSettings)
    verification: VerifySchedule | None = None  # VERIFY_SCHEDULE (None: off)
    # <SERVICE>_BACKUP_SCHEDULE of each service that sets it (the others follow `schedule`).
    own_schedules: Mapping[str, CronSchedule] = attrs.field(factory=dict)

    @property
    def schedules(self) -> Schedules:
        """Return when each service's scheduled dumps run: its own schedule, or
        ``BACKUP_SCHEDULE``."""
        return Schedules(common=self.schedule, own=self.own_schedules)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str], *, cwd: Path) -> Settings:
        """Return the settings that ``environ`` describes, relative paths under ``cwd``.

        Raises:
            ConfigurationError: a variable is missing, malformed or contradicts
                another; the message names it.
        """
        production = core.MODE.read(environ)
        timezone = core.TZ.read(environ)
        config = Config(
            databases=tuple(
                _database(environ, identifier)
                for identifier in services.DATABASE_LIST.read(environ)
            ),
            layout=_layout(PRODUCTION_ROOT if production else cwd / DEVELOPMENT_ROOT, production),
            production=production,
            create_shared_dirs=core.SERVER.read(environ),
            copy_to_shared=_copy_to_shared(environ),
            timezone=timezone,
            parallelism=core.BACKUP_PARALLELISM.read(environ),
        )
        offsite_settings = offsite(environ)
        return cls(
            config=config,
            bin_root=core.PG_BIN_ROOT.read(environ),
            bin_dir=core.PG_BIN_DIR.read(environ),
            schedule=CronSchedule.parse(core.BACKUP_SCHEDULE.read(environ), timezone),
            base_backup_schedule=CronSchedule.parse(
                pitr.BASE_BACKUP_SCHEDULE.read(environ),
                timezone,
                variable=pitr.BASE_BACKUP_SCHEDULE.name,
            ),
            dump_timeout=core.BACKUP_TIMEOUT.read(environ),
            lock_wait=core.LOCK_TIMEOUT.read(environ),
            file_mode=0o640 if core.BACKUP_GROUP_READABLE.read(environ) else 0o600,
            heartbeat_file=(
                core.HEARTBEAT_FILE.read(environ) or Path(config.layout.data_root) / HEARTBEAT_NAME
            ),
            monitoring=_monitoring(environ, config),
            compression=core.BACKUP_COMPRESSION.read(environ),
            restore_jobs=(
                core.RESTORE_JOBS.read(environ) or min(os.cpu_count() or 1, MAX_DEFAULT_JOBS)
            ),
            offsite=offsite_settings,
            pitr_retention_days=pitr.PITR_RETENTION_DAYS.read(environ),
            retention=retention(environ, min_kept=core.MIN_BACKUPS_KEPT.read(environ)),
            hooks=hook_settings(environ, [database.identifier for database in config.databases]),
            own_schedules=_own_schedules(environ, config),
            verification=verify_schedule(environ, timezone=timezone, offsite=offsite_settings),
        )


@attrs.frozen(kw_only=True)
class Monitoring:
    """How the controller tells people about its runs."""

    notify_urls: tuple[str, ...] = ()
    notify_always: bool = False
    healthchecks_url: str | None = None
    healthchecks_urls: dict[str, str] = attrs.field(factory=dict)
    metrics_port: int | None = None
    metrics_address: str = "127.0.0.1"
    metrics_login: tuple[str, str] | None = attrs.field(default=None, repr=False)
    max_age: timedelta | None = None
    backup_on_start: bool = False
    # Point-in-time recovery: how long a WAL receiver may be down, how much a slot may hold.
    wal_max_delay: timedelta = timedelta(seconds=pitr.DEFAULT_WAL_MAX_DELAY)
    wal_slot_alert_bytes: int = 1 << 30
    # <SERVICE>_BACKUP_MAX_AGE of each service that sets it.
    own_max_ages: Mapping[str, timedelta] = attrs.field(factory=dict)

    @property
    def max_ages(self) -> MaxAges:
        """Return how old each service's newest backup may be (see :class:`MaxAges`)."""
        return MaxAges(common=self.max_age, own=self.own_max_ages)


def _monitoring(environ: Mapping[str, str], config: Config) -> Monitoring:
    per_database = {}
    for database in config.databases:
        url = services.HEALTHCHECKS_URL.of(database.identifier).read(environ)
        if url is not None:
            per_database[database.identifier] = url
    return Monitoring(
        notify_urls=monitoring.NOTIFY_URLS.read(environ),
        notify_always=monitoring.NOTIFY_ON.read(environ) == "always",
        healthchecks_url=monitoring.HEALTHCHECKS_URL.read(environ),
        healthchecks_urls=per_database,
        metrics_port=monitoring.METRICS_PORT.read(environ),
        metrics_address=monitoring.METRICS_ADDRESS.read(environ),
        metrics_login=monitoring.metrics_login(environ),
        max_age=monitoring.max_age(environ),
        backup_on_start=monitoring.BACKUP_ON_START.read(environ),
        wal_max_delay=timedelta(seconds=pitr.WAL_MAX_DELAY.read(environ)),
        wal_slot_alert_bytes=pitr.WAL_SLOT_ALERT_SIZE.read(environ),
        own_max_ages=_own_max_ages(environ, config),
    )


def _own_schedules(environ: Mapping[str, str], config: Config) -> dict[str, CronSchedule]:
    own = {}
    for database in config.databases:
        variable = services.BACKUP_SCHEDULE.of(database.identifier)
        expression = variable.read(environ)
        if expression is not None:
            own[database.identifier] = CronSchedule.parse(
                expression, config.timezone, variable=variable.name
            )
    return own


def _own_max_ages(environ: Mapping[str, str], config: Config) -> dict[str, timedelta]:
    own = {}
    for database in config.databases:
        seconds = services.BACKUP_MAX_AGE.of(database.identifier).read(environ)
        if seconds is not None:
            own[database.identifier] = timedelta(seconds=seconds)
    return own


def _copy_to_shared(environ: Mapping[str, str]) -> bool:
    # The product README spells it COPING_TO_SHARED; the correct spelling works
    # too. An empty value counts as unset (compose's ${VAR} of a missing VAR).
    if core.COPING_TO_SHARED.found(environ) is not None:
        return core.COPING_TO_SHARED.read(environ)
    return core.COPYING_TO_SHARED.read(environ)


def _layout(root: Path, production: bool) -> Layout:
    if production:
        return Layout(
            data_root=root / "backup" / "data",
            shared_root=root / "backup" / "shared",
            databases_root=root / "databases",
        )
    return Layout(
        data_root=root / "data", shared_root=root / "shared", databases_root=root / "databases"
    )


def _database(environ: Mapping[str, str], identifier: str) -> Database:
    password, source = services.PASSWORD.of(identifier).lookup(environ)
    dbname = services.DB.of(identifier)
    every = dbname.read(environ) == services.EVERY_DATABASE
    excluded = services.EXCLUDE_DATABASES.of(identifier)
    if excluded.found(environ) is not None and not every:
        raise ConfigurationError(
            f"{excluded.name} is set but {dbname.name} is not '*': databases are excluded "
            f"only when every database of the server is backed up; unset {excluded.name} "
            f"or set {dbname.name}=*"
        )
    return Database(
        identifier=identifier,
        host=services.HOST.of(identifier).read(environ) or identifier,
        port=services.PORT.of(identifier).read(environ),
        user=services.USER.of(identifier).read(environ),
        # Every database: the server is asked for them in its maintenance database.
        dbname=MAINTENANCE_DATABASE if every else dbname.read(environ),
        password=password,
        password_variable=source,
        wal_archive=services.WAL_ARCHIVE.of(identifier).read(environ),
        every_database=every,
        excluded=excluded.read(environ),
        database_variable=dbname.name,
        excluded_variable=excluded.name,
        dump_options=dump_options(
            tables=services.EXCLUDE_TABLES.of(identifier).read(environ),
            table_data=services.EXCLUDE_TABLE_DATA.of(identifier).read(environ),
            schemas=services.EXCLUDE_SCHEMAS.of(identifier).read(environ),
            extra=services.DUMP_ARGS.of(identifier).read(environ),
        ),
    )


def controller_user(environ: Mapping[str, str]) -> str:
    """Return the user the controller becomes when started as root (``CONTROLLER_USER``)."""
    return core.CONTROLLER_USER.read(environ)
