"""The parsers of single values: each takes the text of a variable and the variable's
name, and checks it strictly (a bad one is a ConfigurationError that names the
variable). The declarations in ``adapters.configuration`` say which variable each parses."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeVar

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
# A boolean is `true` or `false` as the README writes them, nothing else (unset: false).
_BOOLEANS = {"true": True, "false": False, "": False}
T = TypeVar("T")


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


def url_list(text: str, variable: str) -> tuple[str, ...]:
    """Return the URLs of ``text``, separated by commas or blanks."""
    return tuple(url for url in re.split(r"[,\s]+", text) if url)


def compression(text: str, variable: str) -> str | None:
    """Return ``BACKUP_COMPRESSION``, or None when unset: ``zstd``, ``lz4``, ``gzip`` or
    ``none``, with an optional ``:level`` in the method's range (:data:`COMPRESSION_LEVELS`,
    none takes no level), or a bare gzip level ``0``-``9`` (``0``: none); lower-cased,
    the level without leading zeros.

    pg_dump's other details (``zstd:long``, ``level=3,workers=2``) are refused: a
    level is all the controller passes on, the same way to pg_dump 15 and 18.

    Raises:
        ConfigurationError: anything else; the message names the variable.
    """
    text = text.strip().lower()
    if not text:
        return None
    found = _COMPRESSION.fullmatch(text)
    if found is None:
        raise ConfigurationError(
            f"{variable} must be zstd, lz4, gzip or none, with an optional :level "
            f"(e.g. zstd:3, gzip:6), or a gzip level 0-9, not '{text}'"
        )
    method, level = found["method"], found["level"]
    if method is None or level is None:
        return text
    if method == "none":
        raise ConfigurationError(f"{variable}: none takes no level, not '{text}'")
    lowest, highest = COMPRESSION_LEVELS[method]
    if not lowest <= int(level) <= highest:
        raise ConfigurationError(
            f"{variable}: {method} takes levels {lowest} to {highest}, not '{text}'"
        )
    return f"{method}:{int(level)}"


def choice(*choices: str) -> Callable[[str, str], str]:
    """Return a parser of one of ``choices``, lower-cased."""

    def parse(text: str, variable: str) -> str:
        text = text.strip().lower()
        if text not in choices:
            raise ConfigurationError(f"{variable} must be {' or '.join(choices)}, not '{text}'")
        return text

    return parse


def port(text: str, variable: str) -> int:
    """Return TCP port ``text`` (1 to 65535), ASCII digits alone (no blanks around them)."""
    if not _DIGITS.fullmatch(text) or not 0 < int(text) < 65536:
        raise ConfigurationError(f"{variable} must be a TCP port number, not {text!r}")
    return int(text)


def bin_dir(text: str, variable: str) -> Path | None:
    """Return directory ``text`` once it holds the client tools, or None when it is blank."""
    text = text.strip()
    if not text:
        return None
    directory = Path(text)
    missing = [tool for tool in CLIENT_TOOLS if not (directory / tool).is_file()]
    if missing:
        raise ConfigurationError(
            f"{variable}={text} has no {', '.join(missing)}: point it at the bin directory "
            "of the PostgreSQL client tools (e.g. /usr/lib/postgresql/17/bin), or unset it"
        )
    return directory


def flag(environ: Mapping[str, str], variable: str) -> bool:
    """Return :func:`boolean` of ``variable``; false when unset."""
    return boolean(environ.get(variable, ""), variable)


def boolean(text: str, variable: str) -> bool:
    """Return true for ``true``, false for ``false`` or blank (unset): exactly as written,
    in lower case, without blanks around it.

    Raises:
        ConfigurationError: anything else (``TRUE``, ``1``, ``yes``, `` true``); the
            message quotes it as given, escaped.
    """
    found = _BOOLEANS.get(text if text.strip() else "")
    if found is None:
        raise ConfigurationError(f"{variable} must be true or false, not {text!r}")
    return found


def seconds(*, minimum: float, maximum: float = MAX_SECONDS) -> Callable[[str, str], float]:
    """Return a parser of seconds from ``minimum`` to ``maximum``, in decimal.

    Its ConfigurationError names the variable and the range.
    """

    def parse(text: str, variable: str) -> float:
        if not _DECIMAL.fullmatch(text) or not minimum <= float(text) <= maximum:
            raise ConfigurationError(
                f"{variable} must be a number of seconds from {minimum:.0f} to {maximum:.0f} "
                f"({_days(maximum)}), not {text!r}"
            )
        return float(text)

    return parse


def _days(seconds: float) -> str:
    days = seconds / 86400
    return f"{days / 365:.0f} years" if days >= 730 else f"{days:.0f} days"


def count(text: str, variable: str) -> int:
    """Return the whole number ``text``, from 1 to 10000: ASCII digits alone (no blanks
    around them, no sign)."""
    if not _DIGITS.fullmatch(text) or not 1 <= int(text) <= _MAX_COUNT:
        raise ConfigurationError(
            f"{variable} must be a whole number from 1 to {_MAX_COUNT}, not {text!r}"
        )
    return int(text)


def optional(parse: Callable[[str, str], T]) -> Callable[[str, str], T | None]:
    """Return ``parse`` that gives None for blank text."""
    return lambda text, variable: parse(text, variable) if text.strip() else None


def stripped(text: str, variable: str) -> str:
    """Return ``text`` without blanks around it."""
    return text.strip()


def single_line(text: str, variable: str) -> str:
    """Return ``text`` without blanks around it, once it holds no control character (a
    newline or a tab anywhere, around it too: a schedule is one line, printed as such).

    Raises:
        ConfigurationError: it holds one; the message shows it escaped.
    """
    if any(unicodedata.category(character) == "Cc" for character in text):
        raise ConfigurationError(
            f"{variable} must be one line without control characters, not {text!r}"
        )
    return text.strip()


def path(text: str, variable: str) -> Path:
    """Return ``text`` as a path."""
    return Path(text.strip())


# PostgreSQL's units of memory (``max_slot_wal_keep_size = 10GB``), 1024-based as there.
_BYTE_UNITS = {"": 1, "B": 1, "kB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30, "TB": 1 << 40}
_BYTE_SIZE = re.compile(r"(?P<number>[0-9]+) *(?P<unit>B|kB|MB|GB|TB)?")


def byte_size(*, minimum: int, maximum: int) -> Callable[[str, str], int]:
    """Return a parser of a size in bytes: a whole number, optionally followed by one of
    PostgreSQL's units (``B``, ``kB``, ``MB``, ``GB``, ``TB``, 1024-based), from
    ``minimum`` to ``maximum`` bytes.

    Its ConfigurationError names the variable and the range.
    """

    def parse(text: str, variable: str) -> int:
        found = _BYTE_SIZE.fullmatch(text)
        amount = int(found["number"]) * _BYTE_UNITS[found["unit"] or ""] if found else -1
        if not minimum <= amount <= maximum:
            raise ConfigurationError(
                f"{variable} must be a size from {minimum} to {maximum} bytes, a number "
                f"with an optional unit B, kB, MB, GB or TB (e.g. 1GB), not {text!r}"
            )
        return amount

    return parse
