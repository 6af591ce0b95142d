"""``controller config``: every variable, its effective value and where it came from,
with secrets redacted."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

import attrs

from pg_backup_manager.adapters.configuration import services
from pg_backup_manager.adapters.configuration.table import EVERY, SERVICE
from pg_backup_manager.adapters.configuration.variable import Shown, Variable
from pg_backup_manager.adapters.env_values import url_list
from pg_backup_manager.adapters.monitoring.redaction import notify_urls, ping_url, redact
from pg_backup_manager.adapters.offsite.settings import looks_secret
from pg_backup_manager.adapters.postgres.pg_binaries import ClientTools
from pg_backup_manager.adapters.postgres.pg_dump import compress_arguments
from pg_backup_manager.adapters.retention_settings import shown as retention_shown
from pg_backup_manager.adapters.settings import Settings
from pg_backup_manager.domain.database_names import printable
from pg_backup_manager.domain.monitoring.freshness import MaxAgeFrom, default_max_age


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
    RESTORE_JOBS from the CPUs, the retention variables from the rule of their tier, and
    each service's schedule and max age (its ``<SERVICE>_BACKUP_MAX_AGE`` from its own
    schedule).

    Raises:
        ConfigurationError: BACKUP_COMPRESSION needs newer tools than ``tools``.
    """
    identifiers = tuple(database.identifier for database in settings.config.databases)
    derived = _derived(settings, tools=tools, now=now, retention=retention_shown(environ))
    return effective(environ, identifiers, defaults=derived)


def _derived(
    settings: Settings,
    *,
    tools: ClientTools,
    now: datetime,
    retention: Mapping[str, tuple[str, str]],
) -> dict[str, Entry]:
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
        **retention,
    }
    hosts = {
        services.HOST.of(database.identifier).name: Entry(
            variable=services.HOST.of(database.identifier).name,
            value=database.host,
            source="default",
        )
        for database in settings.config.databases
    }
    return (
        hosts
        | {
            variable: Entry(variable=variable, value=value, source=f"default: {how}")
            for variable, (value, how) in derived.items()
        }
        | _per_service(settings, now=now)
    )


def _per_service(settings: Settings, *, now: datetime) -> dict[str, Entry]:
    """Return the schedule and the max age each service uses when it sets neither."""
    identifiers = [database.identifier for database in settings.config.databases]
    schedules = settings.schedules
    max_ages = settings.monitoring.max_ages
    ages = max_ages.of_each(identifiers, schedules, now=now)
    entries = []
    for identifier in identifiers:
        schedule = services.BACKUP_SCHEDULE.of(identifier).name
        if max_ages.source(identifier) is MaxAgeFrom.COMMON:
            how = "BACKUP_MAX_AGE"
        else:
            gap_of = schedule if schedules.has_own(identifier) else "BACKUP_SCHEDULE"
            how = f"twice the longest gap of {gap_of}"
        entries += [
            Entry(
                variable=schedule,
                value=settings.schedule.expression,
                source="default: BACKUP_SCHEDULE",
            ),
            Entry(
                variable=services.BACKUP_MAX_AGE.of(identifier).name,
                value=f"{ages[identifier].total_seconds():.0f}",
                source=f"default: {how}",
            ),
        ]
    return {entry.variable: entry for entry in entries}


def effective(
    environ: Mapping[str, str],
    identifiers: tuple[str, ...],
    *,
    defaults: Mapping[str, Entry] = MappingProxyType({}),
) -> list[Entry]:
    """Return every variable the controller reads, for ``identifiers``' services too;
    an unset variable of ``defaults`` as it is there, any other with its declared default."""
    variables = [*EVERY]
    for identifier in identifiers:
        variables += [variable.of(identifier) for variable in SERVICE]
    entries = [_entry(environ, variable) for variable in variables]
    return [
        defaults.get(entry.variable, entry) if entry.source == "default" else entry
        for entry in entries
    ]


def _entry(environ: Mapping[str, str], variable: Variable[Any]) -> Entry:
    name = variable.name
    if variable.from_file and environ.get(variable.file_variable, "").strip():
        return Entry(variable=name, value="***", source=f"file {environ[variable.file_variable]}")
    value = environ.get(name, "")
    if not value.strip():
        default = variable.default or variable.unset.replace("`", "")
        if variable.shown is Shown.SECRET and variable.default:
            default = "***"  # a default password is a password too (the README says which)
        return Entry(variable=name, value=default, source="default")
    return Entry(variable=name, value=printable(_shown(value, variable)), source="environment")


def _shown(value: str, variable: Variable[Any]) -> str:
    shown = variable.shown
    if shown is Shown.SECRET or (shown is Shown.PUBLIC_KEYS and looks_secret(value)):
        return "***"
    if shown is Shown.NOTIFY:
        return notify_urls(url_list(value, variable.name))
    if shown is Shown.PING:
        return ping_url(value)
    return redact(value) if shown is Shown.URL else value
