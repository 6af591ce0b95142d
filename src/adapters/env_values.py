"""Single values of the environment, each checked strictly: a bad one is a
ConfigurationError that names its variable."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from pg_backup_manager.domain.errors import ConfigurationError

# Tools wait at most this long: longer timeouts overflow the system's waits.
MAX_SECONDS = 7 * 24 * 3600.0
CLIENT_TOOLS = ("pg_dump", "pg_restore", "psql")
_MAX_COUNT = 10_000
# ASCII only: str.isdigit() and float() also take superscripts and full-width digits.
_DIGITS = re.compile(r"[0-9]+")
_DECIMAL = re.compile(r"[0-9]+(\.[0-9]*)?|\.[0-9]+")
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off", ""}


def password(environ: Mapping[str, str], prefix: str) -> tuple[str, str]:
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


def port(text: str, variable: str) -> int:
    if not _DIGITS.fullmatch(text) or not 0 < int(text) < 65536:
        raise ConfigurationError(f"{variable} must be a TCP port number, not '{text}'")
    return int(text)


def bin_dir(environ: Mapping[str, str]) -> Path | None:
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


def copy_to_shared(environ: Mapping[str, str]) -> bool:
    # The product README spells it COPING_TO_SHARED; the correct spelling works
    # too. An empty value counts as unset (compose's ${VAR} of a missing VAR).
    for variable in ("COPING_TO_SHARED", "COPYING_TO_SHARED"):
        if environ.get(variable, "").strip():
            return flag(environ, variable)
    return False


def flag(environ: Mapping[str, str], variable: str) -> bool:
    text = environ.get(variable, "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigurationError(f"{variable} must be true or false, not '{environ[variable]}'")


def seconds(environ: Mapping[str, str], variable: str, default: float, *, minimum: float) -> float:
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


def positive_integer(environ: Mapping[str, str], variable: str, default: int) -> int:
    text = environ.get(variable, "").strip()
    if not text:
        return default
    if not _DIGITS.fullmatch(text) or not 1 <= int(text) <= _MAX_COUNT:
        raise ConfigurationError(
            f"{variable} must be a whole number from 1 to {_MAX_COUNT}, not '{text}'"
        )
    return int(text)
