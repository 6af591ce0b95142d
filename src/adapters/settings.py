"""The controller's environment, read once and checked strictly, into domain values."""

from __future__ import annotations

import math
import tempfile
from collections.abc import Mapping
from pathlib import Path

import attrs

from pg_backup_manager.domain.errors import ConfigurationError
from pg_backup_manager.domain.model import Config, Database, Layout, check_identifier, env_prefix
from pg_backup_manager.domain.schedule import DEFAULT_SCHEDULE, CronSchedule

PRODUCTION_ROOT = Path("/var/lib/postgresql")
DEVELOPMENT_ROOT = Path("backup-data")
DEFAULT_BIN_ROOT = Path("/usr/lib/postgresql")
DEFAULT_DUMP_TIMEOUT_SECONDS = 6 * 3600.0
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off", ""}


@attrs.frozen(kw_only=True)
class Settings:
    """The domain's :class:`Config` plus what only the adapters need."""

    config: Config
    bin_root: Path
    bin_dir: Path | None
    dump_timeout: float
    heartbeat_file: Path
    lock_wait: float = 30.0
    file_mode: int = 0o600
    admin_timeout: float = 300.0

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
        CronSchedule.parse(schedule, timezone)
        config = Config(
            databases=_databases(environ),
            layout=_layout(PRODUCTION_ROOT if production else cwd / DEVELOPMENT_ROOT, production),
            production=production,
            create_shared_dirs=environ.get("SERVER", "").strip().lower() == "production",
            copy_to_shared=_copy_to_shared(environ),
            timezone=timezone,
            schedule=schedule,
            parallelism=_positive_integer(environ, "BACKUP_PARALLELISM", 2),
            min_kept=_positive_integer(environ, "MIN_BACKUPS_KEPT", 1),
        )
        bin_dir = environ.get("PG_BIN_DIR", "").strip()
        return cls(
            config=config,
            bin_root=Path(environ.get("PG_BIN_ROOT", "").strip() or DEFAULT_BIN_ROOT),
            bin_dir=Path(bin_dir) if bin_dir else None,
            dump_timeout=_positive_number(environ, "BACKUP_TIMEOUT", DEFAULT_DUMP_TIMEOUT_SECONDS),
            lock_wait=_positive_number(environ, "LOCK_TIMEOUT", 30.0, zero_ok=True),
            file_mode=0o640 if _flag(environ, "BACKUP_GROUP_READABLE") else 0o600,
            heartbeat_file=Path(
                environ.get("HEARTBEAT_FILE", "").strip()
                or Path(tempfile.gettempdir()) / "pg-backup-manager.heartbeat"
            ),
        )


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

    return Database(
        identifier=identifier,
        host=value("HOST", identifier),
        port=_port(value("PORT", "5432"), f"{prefix}_POSTGRES_PORT"),
        user=value("USER", "postgres"),
        dbname=value("DB", "postgres"),
        password=_password(environ, prefix),
    )


def _password(environ: Mapping[str, str], prefix: str) -> str:
    file_variable = f"{prefix}_POSTGRES_PASSWORD_FILE"
    path = environ.get(file_variable, "").strip()
    if not path:
        return environ.get(f"{prefix}_POSTGRES_PASSWORD", "") or "postgres"
    try:
        return Path(path).read_text().rstrip("\r\n")
    except OSError as error:
        raise ConfigurationError(
            f"{file_variable}: cannot read {path}: {error.strerror or error}"
        ) from None


def _port(text: str, variable: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ConfigurationError(f"{variable} must be a TCP port number, not '{text}'")
    return int(text)


def _copy_to_shared(environ: Mapping[str, str]) -> bool:
    # The product README spells it COPING_TO_SHARED; the correct spelling works
    # too. An empty value counts as unset (compose's ${VAR} of a missing VAR).
    for variable in ("COPING_TO_SHARED", "COPYING_TO_SHARED"):
        if environ.get(variable, "").strip():
            return _flag(environ, variable)
    return False


def _flag(environ: Mapping[str, str], variable: str) -> bool:
    text = environ.get(variable, "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigurationError(f"{variable} must be true or false, not '{environ[variable]}'")


def _positive_number(
    environ: Mapping[str, str], variable: str, default: float, *, zero_ok: bool = False
) -> float:
    text = environ.get(variable, "").strip()
    if not text:
        return default
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or number < 0 or (number == 0 and not zero_ok):
        raise ConfigurationError(f"{variable} must be a positive number of seconds, not '{text}'")
    return number


def _positive_integer(environ: Mapping[str, str], variable: str, default: int) -> int:
    text = environ.get(variable, "").strip()
    if not text:
        return default
    if not text.isdigit() or int(text) < 1:
        raise ConfigurationError(f"{variable} must be a whole number of at least 1, not '{text}'")
    return int(text)
