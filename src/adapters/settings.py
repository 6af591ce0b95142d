"""The controller's environment, read once and checked strictly, into domain values."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import attrs

from pg_backup_manager.adapters.cron import DEFAULT_SCHEDULE, CronSchedule
from pg_backup_manager.adapters.env_values import (
    bin_dir,
    choice,
    compression,
    copy_to_shared,
    flag,
    password,
    port,
    positive_integer,
    seconds,
    secret,
    urls,
)
from pg_backup_manager.adapters.offsite.settings import OffsiteSettings, offsite
from pg_backup_manager.adapters.privileges import DEFAULT_USER
from pg_backup_manager.domain.errors import ConfigurationError
from pg_backup_manager.domain.model import Config, Database, Layout, check_identifier, env_prefix

PRODUCTION_ROOT = Path("/var/lib/postgresql")
DEVELOPMENT_ROOT = Path("backup-data")
DEFAULT_BIN_ROOT = Path("/usr/lib/postgresql")
DEFAULT_DUMP_TIMEOUT_SECONDS = 6 * 3600.0
# Beside the backup directories, where only the controller's user may write.
HEARTBEAT_NAME = ".heartbeat"
MAX_DEFAULT_JOBS = 4
# BACKUP_MAX_AGE: its default is twice the longest gap of the schedule, two years
# for @yearly; ten years leave room for any schedule one would keep.
MAX_AGE_SECONDS = 3650 * 86400.0


@attrs.frozen(kw_only=True)
class Settings:
    """The domain's :class:`Config` plus what only the adapters need."""

    config: Config
    bin_root: Path
    bin_dir: Path | None
    schedule: CronSchedule
    dump_timeout: float
    heartbeat_file: Path
    monitoring: Monitoring
    compression: str | None = None
    restore_jobs: int = 1
    lock_wait: float = 30.0
    file_mode: int = 0o600
    admin_timeout: float = 300.0
    offsite: OffsiteSettings | None = None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str], *, cwd: Path) -> Settings:
        """Return the settings that ``environ`` describes, relative paths under ``cwd``.

        Raises:
            ConfigurationError: a variable is missing, malformed or contradicts
                another; the message names it.
        """
        production = environ.get("MODE", "").strip().lower() == "production"
        timezone = environ.get("TZ", "").strip().removeprefix(":") or "UTC"
        schedule = environ.get("BACKUP_SCHEDULE", "").strip() or DEFAULT_SCHEDULE
        config = Config(
            databases=_databases(environ),
            layout=_layout(PRODUCTION_ROOT if production else cwd / DEVELOPMENT_ROOT, production),
            production=production,
            create_shared_dirs=environ.get("SERVER", "").strip().lower() == "production",
            copy_to_shared=copy_to_shared(environ),
            timezone=timezone,
            parallelism=positive_integer(environ, "BACKUP_PARALLELISM", 2),
            min_kept=positive_integer(environ, "MIN_BACKUPS_KEPT", 1),
        )
        return cls(
            config=config,
            bin_root=Path(environ.get("PG_BIN_ROOT", "").strip() or DEFAULT_BIN_ROOT),
            bin_dir=bin_dir(environ),
            schedule=CronSchedule.parse(schedule, timezone),
            dump_timeout=seconds(
                environ, "BACKUP_TIMEOUT", DEFAULT_DUMP_TIMEOUT_SECONDS, minimum=1
            ),
            lock_wait=seconds(environ, "LOCK_TIMEOUT", 30.0, minimum=0),
            file_mode=0o640 if flag(environ, "BACKUP_GROUP_READABLE") else 0o600,
            heartbeat_file=Path(
                environ.get("HEARTBEAT_FILE", "").strip()
                or Path(config.layout.data_root) / HEARTBEAT_NAME
            ),
            monitoring=_monitoring(environ, config),
            compression=compression(environ),
            restore_jobs=positive_integer(
                environ, "RESTORE_JOBS", min(os.cpu_count() or 1, MAX_DEFAULT_JOBS)
            ),
            offsite=offsite(environ),
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
    max_age: timedelta | None = None
    backup_on_start: bool = False


def _monitoring(environ: Mapping[str, str], config: Config) -> Monitoring:
    per_database = {}
    for database in config.databases:
        found = secret(environ, f"{database.env_prefix}_HEALTHCHECKS_URL")
        if found is not None:
            per_database[database.identifier] = _ping_url(*found)
    healthchecks = secret(environ, "HEALTHCHECKS_URL")
    metrics_port = environ.get("METRICS_PORT", "").strip()
    max_age = environ.get("BACKUP_MAX_AGE", "").strip()
    return Monitoring(
        notify_urls=urls(environ, "NOTIFY_URLS"),
        notify_always=choice(environ, "NOTIFY_ON", ("failure", "always")) == "always",
        healthchecks_url=_ping_url(*healthchecks) if healthchecks else None,
        healthchecks_urls=per_database,
        metrics_port=port(metrics_port, "METRICS_PORT") if metrics_port else None,
        metrics_address=_metrics_address(environ),
        max_age=(
            timedelta(
                seconds=seconds(environ, "BACKUP_MAX_AGE", 0, minimum=60, maximum=MAX_AGE_SECONDS)
            )
            if max_age
            else None
        ),
        backup_on_start=flag(environ, "BACKUP_ON_START"),
    )


def _metrics_address(environ: Mapping[str, str]) -> str:
    """Return ``METRICS_ADDRESS``, an IPv4 or IPv6 address literal; 127.0.0.1 when unset.

    A host name is refused: it would be looked up only when the scheduler starts
    serving, and fail there, after ``config`` said all was well.

    Raises:
        ConfigurationError: it is not an IP address.
    """
    text = environ.get("METRICS_ADDRESS", "").strip()
    if not text:
        return "127.0.0.1"
    try:
        ipaddress.ip_address(text)
    except ValueError:
        raise ConfigurationError(
            "METRICS_ADDRESS must be an IP address, such as 127.0.0.1, 0.0.0.0 (every IPv4 "
            f"address), ::1 or :: (every address), not {' '.join(text.split())!r}"
        ) from None
    return text


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


def _databases(environ: Mapping[str, str]) -> tuple[Database, ...]:
    raw = environ.get("DATABASE_LIST", "")
    identifiers = [item.strip() for item in raw.split(",") if item.strip()]
    if not identifiers:
        raise ConfigurationError(
            "DATABASE_LIST is empty: set it to the comma-separated names of the database "
            "services to back up, e.g. DATABASE_LIST=users,orders"
        )
    by_prefix: dict[str, str] = {}
    for identifier in identifiers:
        prefix = env_prefix(check_identifier(identifier))
        if prefix in by_prefix:
            raise ConfigurationError(
                f"DATABASE_LIST names '{by_prefix[prefix]}' and '{identifier}', which share "
                f"the variables {prefix}_POSTGRES_*: list each service once"
            )
        by_prefix[prefix] = identifier
    return tuple(_database(environ, identifier) for identifier in identifiers)


def _database(environ: Mapping[str, str], identifier: str) -> Database:
    prefix = env_prefix(identifier)

    def value(name: str, default: str) -> str:
        return environ.get(f"{prefix}_POSTGRES_{name}", "").strip() or default

    secret, source = password(environ, prefix)
    return Database(
        identifier=identifier,
        host=value("HOST", identifier),
        port=port(value("PORT", "5432"), f"{prefix}_POSTGRES_PORT"),
        user=value("USER", "postgres"),
        dbname=value("DB", "postgres"),
        password=secret,
        password_source=source,
    )


def controller_user(environ: Mapping[str, str]) -> str:
    """Return the user the controller becomes when started as root (``CONTROLLER_USER``)."""
    return environ.get("CONTROLLER_USER", "").strip() or DEFAULT_USER


def _ping_url(text: str, variable: str) -> str:
    """Return ping URL ``text`` of ``variable`` without the slash at its end.

    Raises:
        ConfigurationError: it is not ``http(s)://<host>...``; the message never
            repeats the value (its path is the check's token).
    """
    url = text.strip().rstrip("/")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (a port that is not a number raises here)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ConfigurationError(
            f"{variable} must be an http:// or https:// URL with a host "
            "(e.g. https://hc-ping.com/<uuid>); its value is not shown"
        )
    return url
