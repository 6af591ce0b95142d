"""``controller config``: every variable, its effective value and where it came from,
with secrets redacted."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType

import attrs

from pg_backup_manager.adapters.env_values import urls
from pg_backup_manager.adapters.monitoring.redaction import notify_urls, ping_url, redact
from pg_backup_manager.adapters.offsite.settings import looks_secret
from pg_backup_manager.adapters.postgres.pg_binaries import ClientTools
from pg_backup_manager.adapters.postgres.pg_dump import compress_arguments
from pg_backup_manager.adapters.settings import Settings
from pg_backup_manager.domain.model import env_prefix
from pg_backup_manager.domain.monitoring.freshness import default_max_age

# (variable, default as the README states it, kind): kind "secret" is never shown,
# "notify" shows each Apprise URL as Apprise shows it in private, "ping" its host alone,
# "urls" with its credentials redacted; these and "public" may come from a _FILE.
GLOBAL_VARIABLES = (
    ("DATABASE_LIST", "(required)", ""),
    ("MODE", "", ""),
    ("SERVER", "", ""),
    ("COPING_TO_SHARED", "false", ""),
    ("COPYING_TO_SHARED", "false", ""),
    ("TZ", "UTC", ""),
    ("BACKUP_SCHEDULE", "0 3,9,15,21 * * *", ""),
    ("BACKUP_TIMEOUT", "21600", ""),
    ("BACKUP_MAX_AGE", "twice the longest gap of BACKUP_SCHEDULE", ""),
    ("BACKUP_ON_START", "false", ""),
    ("PG_BIN_DIR", "newest /usr/lib/postgresql/*/bin, else PATH", ""),
    ("PG_BIN_ROOT", "/usr/lib/postgresql", ""),
    ("HEARTBEAT_FILE", "<backups>/.heartbeat", ""),
    ("BACKUP_PARALLELISM", "2", ""),
    ("MIN_BACKUPS_KEPT", "1", ""),
    ("LOCK_TIMEOUT", "30", ""),
    ("BACKUP_GROUP_READABLE", "false", ""),
    ("CONTROLLER_USER", "postgres", ""),
    ("BACKUP_COMPRESSION", "zstd:1 with pg_dump 16 or newer, else gzip", ""),
    ("RESTORE_JOBS", "the number of CPUs, at most 4", ""),
    ("NOTIFY_URLS", "", "notify"),
    ("NOTIFY_ON", "failure", ""),
    ("HEALTHCHECKS_URL", "", "ping"),
    ("METRICS_PORT", "(off)", ""),
    ("METRICS_ADDRESS", "127.0.0.1", ""),
    ("OFFSITE_URL", "(off)", ""),
    ("S3_ENDPOINT_URL", "AWS S3", "urls"),
    ("S3_REGION", "us-east-1", ""),
    ("AWS_ACCESS_KEY_ID", "the S3 client's usual chain", "secret"),
    ("AWS_SECRET_ACCESS_KEY", "the S3 client's usual chain", "secret"),
    ("S3_FORCE_PATH_STYLE", "false", ""),
    ("OFFSITE_RETENTION", "true", ""),
    ("ENCRYPTION_RECIPIENTS", "(off: off-site copies are not encrypted)", "public"),
    ("ENCRYPTION_IDENTITY_FILE", "(none: encrypted copies cannot be restored here)", ""),
)
SERVICE_VARIABLES = (
    ("HOST", "the identifier", ""),
    ("PORT", "5432", ""),
    ("USER", "postgres", ""),
    ("PASSWORD", "postgres", "secret"),
    ("DB", "postgres", ""),
    ("HEALTHCHECKS_URL", "", "ping"),
)
FILE_KINDS = {"secret", "notify", "ping", "urls", "public"}


@attrs.frozen(kw_only=True)
class Entry:
    """One variable as the controller sees it."""

    variable: str
    value: str
    source: str


def report(
    environ: Mapping[str, str], settings: Settings, *, tools: ClientTools, now: datetime
) -> list[Entry]:
    """Return every variable the controller reads (see :func:`effective`), the defaults it
    derives as it uses them at ``now``: BACKUP_MAX_AGE from the schedule, PG_BIN_DIR
    and BACKUP_COMPRESSION from the client ``tools``, HEARTBEAT_FILE from the mode,
    RESTORE_JOBS from the CPUs.

    Raises:
        ConfigurationError: BACKUP_COMPRESSION needs newer tools than ``tools``.
    """
    identifiers = tuple(database.identifier for database in settings.config.databases)
    return effective(environ, identifiers, defaults=_derived(settings, tools=tools, now=now))


def _derived(settings: Settings, *, tools: ClientTools, now: datetime) -> dict[str, Entry]:
    if tools.major:
        compress_arguments(settings.compression, tools.major)  # raises if the tools lack it
    compress = compress_arguments(None, tools.major)
    max_age = default_max_age(settings.schedule, now=now).total_seconds()
    derived = {
        "BACKUP_MAX_AGE": (f"{max_age:.0f}", "twice the longest gap of BACKUP_SCHEDULE"),
        "PG_BIN_DIR": (
            (str(tools.directory), tools.found_by)
            if tools.directory
            else ("(not found)", f"newest {settings.bin_root}/*/bin, else PATH")
        ),
        "HEARTBEAT_FILE": (str(settings.heartbeat_file), "beside the backups"),
        "BACKUP_COMPRESSION": (
            (compress[0].removeprefix("--compress="), "with pg_dump 16 or newer")
            if compress
            else ("gzip", f"pg_dump {tools.major}'s own" if tools.major else "pg_dump's own")
        ),
        "RESTORE_JOBS": (str(settings.restore_jobs), "the number of CPUs, at most 4"),
    }
    return {
        variable: Entry(variable=variable, value=value, source=f"default: {how}")
        for variable, (value, how) in derived.items()
    }


def effective(
    environ: Mapping[str, str],
    identifiers: tuple[str, ...],
    *,
    defaults: Mapping[str, Entry] = MappingProxyType({}),
) -> list[Entry]:
    """Return every variable the controller reads, for ``identifiers``' services too;
    an unset variable of ``defaults`` as it is there, any other with its README default."""
    variables = list(GLOBAL_VARIABLES)
    for identifier in identifiers:
        prefix = f"{env_prefix(identifier)}_POSTGRES_"
        for name, default, kind in SERVICE_VARIABLES:
            full = (
                prefix + name if name != "HEALTHCHECKS_URL" else f"{env_prefix(identifier)}_{name}"
            )
            variables.append((full, identifier if default == "the identifier" else default, kind))
    entries = [_entry(environ, *variable) for variable in variables]
    return [
        defaults.get(entry.variable, entry) if entry.source == "default" else entry
        for entry in entries
    ]


def _entry(environ: Mapping[str, str], variable: str, default: str, kind: str) -> Entry:
    file_variable = f"{variable}_FILE"
    if kind in FILE_KINDS and environ.get(file_variable, "").strip():
        return Entry(variable=variable, value="***", source=f"file {environ[file_variable]}")
    value = environ.get(variable, "")
    if not value.strip():
        return Entry(variable=variable, value=default, source="default")
    return Entry(variable=variable, value=_shown(environ, variable, kind), source="environment")


def _shown(environ: Mapping[str, str], variable: str, kind: str) -> str:
    value = environ[variable]
    if kind == "secret" or (kind == "public" and looks_secret(value)):
        return "***"
    if kind == "notify":
        return notify_urls(urls(environ, variable))
    if kind == "ping":
        return ping_url(value)
    return redact(value) if kind == "urls" else value
