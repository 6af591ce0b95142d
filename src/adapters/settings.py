"""The controller's environment, read once and checked strictly, into domain values."""

from __future__ import annotations

import re
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
# Beside the backup directories, where only the controller's user may write.
HEARTBEAT_NAME = ".heartbeat"
# Tools wait at most this long: longer timeouts overflow the system's waits.
MAX_SECONDS = 7 * 24 * 3600.0
CLIENT_TOOLS = ("pg_dump", "pg_restore", "psql")
_MAX_COUNT = 10_000
# ASCII only: str.isdigit() and float() also take superscripts and full-width digits.
_DIGITS = re.compile(r"[0-9]+")
_DECIMAL = re.compile(r"[0-9]+(\.[0-9]*)?|\.[0-9]+")
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
        return cls(
            config=config,
            bin_root=Path(environ.get("PG_BIN_ROOT", "").strip() or DEFAULT_BIN_ROOT),
            bin_dir=_bin_dir(environ),
            dump_timeout=_seconds(
                environ, "BACKUP_TIMEOUT", DEFAULT_DUMP_TIMEOUT_SECONDS, minimum=1
            ),
            lock_wait=_seconds(environ, "LOCK_TIMEOUT", 30.0, minimum=0),
            file_mode=0o640 if _flag(environ, "BACKUP_GROUP_READABLE") else 0o600,
            heartbeat_file=Path(
                environ.get("HEARTBEAT_FILE", "").strip()
                or Path(config.layout.data_root) / HEARTBEAT_NAME
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

    password, source = _password(environ, prefix)
    return Database(
        identifier=identifier,
        host=value("HOST", identifier),
        port=_port(value("PORT", "5432"), f"{prefix}_POSTGRES_PORT"),
        user=value("USER", "postgres"),
        dbname=value("DB", "postgres"),
        password=password,
        password_source=source,
    )


def _password(environ: Mapping[str, str], prefix: str) -> tuple[str, str]:
    """Return the password of service ``prefix`` and the variable it came from."""
    file_variable = f"{prefix}_POSTGRES_PASSWORD_FILE"
    path = environ.get(file_variable, "").strip()
    if not path:
        return environ.get(f"{prefix}_POSTGRES_PASSWORD", "") or "postgres", ""
    try:
        password = Path(path).read_bytes().decode("utf-8").rstrip("\r\n")
    except OSError as error:
        raise ConfigurationError(
            f"{file_variable}: cannot read {path}: {error.strerror or error}"
        ) from None
    except UnicodeDecodeError:
        raise ConfigurationError(
            f"{file_variable}: {path} is not UTF-8 text: write the password in UTF-8"
        ) from None
    if not password:
        raise ConfigurationError(f"{file_variable}: {path} is empty: write the password in it")
    return password, file_variable


def _port(text: str, variable: str) -> int:
    if not _DIGITS.fullmatch(text) or not 0 < int(text) < 65536:
        raise ConfigurationError(f"{variable} must be a TCP port number, not '{text}'")
    return int(text)


def _bin_dir(environ: Mapping[str, str]) -> Path | None:
    """Return PG_BIN_DIR once it holds the client tools, or None when it is unset."""
    text = environ.get("PG_BIN_DIR", "").strip()
    if not text:
        return None
    directory = Path(text)
    missing = [tool for tool in CLIENT_TOOLS if not (directory / tool).is_file()]
    if missing:
        raise ConfigurationError(
            f"PG_BIN_DIR={text} has no {', '.join(missing)}: point it at the bin directory "
            "of the PostgreSQL client tools (e.g. /usr/lib/postgresql/17/bin), or unset it"
        )
    return directory


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


def _seconds(environ: Mapping[str, str], variable: str, default: float, *, minimum: float) -> float:
    """Return the seconds ``variable`` says, between ``minimum`` and MAX_SECONDS."""
    text = environ.get(variable, "").strip()
    if not text:
        return default
    if not _DECIMAL.fullmatch(text) or not minimum <= float(text) <= MAX_SECONDS:
        raise ConfigurationError(
            f"{variable} must be a number of seconds from {minimum:.0f} to {MAX_SECONDS:.0f} "
            f"(7 days), not '{text}'"
        )
    return float(text)


def _positive_integer(environ: Mapping[str, str], variable: str, default: int) -> int:
    text = environ.get(variable, "").strip()
    if not text:
        return default
    if not _DIGITS.fullmatch(text) or not 1 <= int(text) <= _MAX_COUNT:
        raise ConfigurationError(
            f"{variable} must be a whole number from 1 to {_MAX_COUNT}, not '{text}'"
        )
    return int(text)
