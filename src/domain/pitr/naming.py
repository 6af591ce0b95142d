"""The names point-in-time recovery gives on disk and on the server: a service's
replication slot, its streams' and base backups' directories.

Streams and base backups are named by the UTC second they began, spelled as the
dumps' names spell it (``2026-12-04T23:10:00Z``, see ``domain/names.py``), so
listing and retention read their times from their names.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import attrs

SLOT_PREFIX = "pg_backup_manager_"
_MAX_SLOT_NAME = 63  # NAMEDATALEN - 1
_STAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
# ASCII digits and hours to 23 only, as domain/names.py: one spelling per time.
_STAMP = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T(?:[01][0-9]|2[0-3]):[0-9]{2}:[0-9]{2}Z"
_STAMP_NAME = re.compile(_STAMP)
_STAGING_NAME = re.compile(rf"\.({_STAMP})\.([1-9][0-9]{{0,9}})\.partial")
BASE_FACTS_SUFFIX = ".json"
_SLOT_NAME = re.compile(r"[a-z0-9_]{1,63}")


def slot_name(identifier: str) -> str:
    """Return the replication slot of the service ``identifier``:
    ``pg_backup_manager_`` + the identifier in lower case with ``-`` as ``_``, cut to
    the 63 characters a slot name may have.

    Raises:
        ValueError: ``identifier`` is empty or has characters other than ASCII
            letters, digits, ``-`` and ``_`` (``DATABASE_LIST`` lets in none of these).
    """
    name = (SLOT_PREFIX + identifier.lower().replace("-", "_"))[:_MAX_SLOT_NAME]
    if not identifier or not _SLOT_NAME.fullmatch(name):
        raise ValueError(f"'{identifier}' cannot name a replication slot")
    return name


def utc_name(at: datetime) -> str:
    """Return the name of a stream or a base backup begun at ``at`` (any aware time),
    to the second: ``2026-12-04T23:10:00Z``.

    Raises:
        ValueError: ``at`` is naive.
    """
    if at.utcoffset() is None:
        raise ValueError(f"{at!r} has no time zone")
    return at.astimezone(UTC).strftime(_STAMP_FORMAT)


def time_of_name(text: str) -> datetime | None:
    """Return the UTC time a stream's or a base backup's directory name ``text`` spells,
    or None when ``text`` is not exactly such a name (a real date, upper-case ``T``
    and ``Z``, no fraction, no offset, no path)."""
    if _STAMP_NAME.fullmatch(text) is None:
        return None
    try:
        # The pattern fixed the shape; this checks the date (no 30 February).
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def base_facts_name(base_name: str) -> str:
    """Return the name of the file that records a committed base backup's facts, beside
    its directory (written last: a base backup counts once it exists)."""
    return base_name + BASE_FACTS_SUFFIX


def base_of_facts_name(text: str) -> datetime | None:
    """Return the start time of the base backup whose facts file is named ``text``, or
    None when ``text`` is not exactly ``<UTC name>.json``."""
    if not text.endswith(BASE_FACTS_SUFFIX):
        return None
    return time_of_name(text.removesuffix(BASE_FACTS_SUFFIX))


@attrs.frozen(kw_only=True)
class StagingName:
    """A base backup being taken: its start time and the process taking it, spelled
    ``.<UTC name>.<pid>.partial`` (hidden, so no listing mistakes it for a backup; the
    pid says whether its writer is alive, and so whether it is a leftover)."""

    started_at: datetime
    pid: int

    @classmethod
    def from_text(cls, text: str) -> StagingName | None:
        """Return the staging name ``text`` spells, or None when it is not exactly one."""
        match = _STAGING_NAME.fullmatch(text)
        started_at = time_of_name(match[1]) if match is not None else None
        if match is None or started_at is None:
            return None
        return cls(started_at=started_at, pid=int(match[2]))

    def __str__(self) -> str:
        return f".{utc_name(self.started_at)}.{self.pid}.partial"
