"""Single values of the environment, each checked strictly: a bad one is a
ConfigurationError that names its variable."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from pg_backup_manager.domain.errors import ConfigurationError

# Tools wait at most this long: longer timeouts overflow the system's waits.
MAX_SECONDS = 7 * 24 * 3600.0
CLIENT_TOOLS = ("pg_dump", "pg_dumpall", "pg_restore", "psql")
_MAX_COUNT = 10_000
# ASCII only: str.isdigit() and float() also take superscripts and full-width digits.
_DIGITS = re.compile(r"[0-9]+")
# BACKUP_COMPRESSION: a method with an optional level, or a bare gzip level (0: none).
_COMPRESSION = re.compile(
    r"(?P<method>zstd|lz4|gzip|none)(:(?P<level>[0-9]{1,9}))?|(?P<bare>[0-9])"
)
# The levels pg_dump 16 to 18 take (src/common/compression.c), but for the default
# levels they also take below the range (lz4:0, zstd:0 and zstd's negative ones):
# these are the levels one can ask for by number. pg_dump 15 takes gzip's only.
COMPRESSION_LEVELS = {"gzip": (1, 9), "lz4": (1, 12), "zstd": (1, 22)}
_DECIMAL = re.compile(r"[0-9]+(\.[0-9]*)?|\.[0-9]+")
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off", ""}


def password(environ: Mapping[str, str], prefix: str) -> tuple[str, str]:
    """Return the password of service ``prefix`` and the variable it came from
    (``""``: none was set, the default ``postgres``)."""
    found = secret(environ, f"{prefix}_POSTGRES_PASSWORD")
    if found is None:
        return "postgres", ""
    return found


def secret(environ: Mapping[str, str], variable: str) -> tuple[str, str] | None:
    """Return the value of ``variable`` or of the file ``<variable>_FILE`` names (Docker
    secrets), with the name of the variable it came from; None when neither is set.

    Raises:
        ConfigurationError: both are set, or the file cannot be read, is not
            UTF-8 or is empty.
    """
    file_variable = f"{variable}_FILE"
    path = environ.get(file_variable, "").strip()
    value = environ.get(variable, "")
    if path and value.strip():
        raise ConfigurationError(f"{variable} and {file_variable} are both set: keep one of them")
    if not path:
        return (value, variable) if value.strip() else None
    try:
        text = Path(path).read_bytes().decode("utf-8").rstrip("\r\n")
    except OSError as error:
        raise ConfigurationError(
            f"{file_variable}: cannot read {path}: {error.strerror or error}"
        ) from None
    except UnicodeDecodeError:
        raise ConfigurationError(
            f"{file_variable}: {path} is not UTF-8 text: write the value in UTF-8"
        ) from None
    if not text:
        raise ConfigurationError(f"{file_variable}: {path} is empty: write the value in it")
    return text, file_variable


def urls(environ: Mapping[str, str], variable: str) -> tuple[str, ...]:
    """Return the URLs of ``variable`` (or its ``_FILE``), separated by commas or blanks."""
    found = secret(environ, variable)
    if found is None:
        return ()
    return tuple(url for url in re.split(r"[,\s]+", found[0]) if url)


def compression(environ: Mapping[str, str]) -> str | None:
    """Return ``BACKUP_COMPRESSION``, or None when unset: ``zstd``, ``lz4``, ``gzip`` or
    ``none``, with an optional ``:level`` in the method's range (:data:`COMPRESSION_LEVELS`,
    none takes no level), or a bare gzip level ``0``-``9`` (``0``: none); lower-cased,
    the level without leading zeros.

    pg_dump's other details (``zstd:long``, ``level=3,workers=2``) are refused: a
    level is all the controller passes on, the same way to pg_dump 15 and 18.

    Raises:
        ConfigurationError: anything else; the message names the variable.
    """
    text = environ.get("BACKUP_COMPRESSION", "").strip().lower()
    if not text:
        return None
    found = _COMPRESSION.fullmatch(text)
    if found is None:
        raise ConfigurationError(
            f"BACKUP_COMPRESSION must be zstd, lz4, gzip or none, with an optional :level "
            f"(e.g. zstd:3, gzip:6), or a gzip level 0-9, not '{text}'"
        )
    method, level = found["method"], found["level"]
    if method is None or level is None:
        return text
    if method == "none":
        raise ConfigurationError(f"BACKUP_COMPRESSION: none takes no level, not '{text}'")
    lowest, highest = COMPRESSION_LEVELS[method]
    if not lowest <= int(level) <= highest:
        raise ConfigurationError(
            f"BACKUP_COMPRESSION: {method} takes levels {lowest} to {highest}, not '{text}'"
        )
    return f"{method}:{int(level)}"


def choice(environ: Mapping[str, str], variable: str, choices: tuple[str, ...]) -> str:
    """Return ``variable`` (lower-cased), one of ``choices``; the first when unset."""
    text = environ.get(variable, "").strip().lower() or choices[0]
    if text not in choices:
        raise ConfigurationError(f"{variable} must be {' or '.join(choices)}, not '{text}'")
    return text


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


def seconds(
    environ: Mapping[str, str],
    variable: str,
    default: float,
    *,
    minimum: float,
    maximum: float = MAX_SECONDS,
) -> float:
    """Return the seconds ``variable`` says, from ``minimum`` to ``maximum``; ``default``
    when unset.

    Raises:
        ConfigurationError: not a decimal number in that range; the message names
            the variable and the range.
    """
    text = environ.get(variable, "").strip()
    if not text:
        return default
    if not _DECIMAL.fullmatch(text) or not minimum <= float(text) <= maximum:
        raise ConfigurationError(
            f"{variable} must be a number of seconds from {minimum:.0f} to {maximum:.0f} "
            f"({_days(maximum)}), not '{text}'"
        )
    return float(text)


def _days(seconds: float) -> str:
    days = seconds / 86400
    return f"{days / 365:.0f} years" if days >= 730 else f"{days:.0f} days"


def positive_integer(environ: Mapping[str, str], variable: str, default: int) -> int:
    text = environ.get(variable, "").strip()
    if not text:
        return default
    if not _DIGITS.fullmatch(text) or not 1 <= int(text) <= _MAX_COUNT:
        raise ConfigurationError(
            f"{variable} must be a whole number from 1 to {_MAX_COUNT}, not '{text}'"
        )
    return int(text)
