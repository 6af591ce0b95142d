"""``controller config``: every variable, its effective value and where it came from,
with secrets redacted."""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from pg_backup_manager.adapters.env_values import urls
from pg_backup_manager.adapters.offsite_settings import looks_secret
from pg_backup_manager.adapters.redaction import notify_urls, ping_url, redact
from pg_backup_manager.domain.model import env_prefix

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


def effective(environ: Mapping[str, str], identifiers: tuple[str, ...]) -> list[Entry]:
    """Return every variable the controller reads, for ``identifiers``' services too."""
    variables = list(GLOBAL_VARIABLES)
    for identifier in identifiers:
        prefix = f"{env_prefix(identifier)}_POSTGRES_"
        for name, default, kind in SERVICE_VARIABLES:
            full = (
                prefix + name if name != "HEALTHCHECKS_URL" else f"{env_prefix(identifier)}_{name}"
            )
            variables.append((full, identifier if default == "the identifier" else default, kind))
    return [_entry(environ, *variable) for variable in variables]


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
