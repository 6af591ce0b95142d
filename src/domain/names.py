"""Backups by name: ``file_<tier>_<UTC timestamp>.dump``, and what a name stands for."""

from __future__ import annotations

import enum
import functools
import re
from datetime import UTC, datetime, timedelta
from pathlib import PurePath

import attrs

from pg_backup_manager.domain.errors import ControllerError, InvalidBackupNameError


class Tier(enum.Enum):
    """How long a backup is meant to be kept; part of its file name."""

    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


_TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
# ASCII digits only and hours to 23, so that a name has one spelling, the one ``str()``
# gives back (``\d`` matches other scripts' digits; a newer ``fromisoformat`` takes 24:00).
_NAME = re.compile(
    r"file_(daily|weekly|monthly)_"
    r"([0-9]{4}-[0-9]{2}-[0-9]{2}T(?:[01][0-9]|2[0-3]):[0-9]{2}:[0-9]{2}Z)\.dump"
)
_TIERS = {tier.value: tier for tier in Tier}
_NO_OFFSET = timedelta(0)
SHARED_ARCHIVE_NAME = "file.dump"
# The cluster's globals beside an archive: ``<stem>.globals.sql``, never a backup name.
GLOBALS_SUFFIX = ".globals.sql"
SHARED_GLOBALS_NAME = "file" + GLOBALS_SUFFIX
# Beside a partial backup, the note of the pg_dump arguments that left something out of it:
# ``<stem>.left-out.json``, never a backup name. A backup without one is whole.
NOTE_SUFFIX = ".left-out.json"
SHARED_NOTE_NAME = "file" + NOTE_SUFFIX
_SHA256 = re.compile(r"[0-9a-f]{64}")


def _must_be_utc(_: object, attribute: attrs.Attribute[datetime], value: datetime) -> None:
    # ``UTC`` itself first: every name read from a directory has it, 10,000 at a time.
    if value.tzinfo is not UTC and value.utcoffset() != _NO_OFFSET:
        raise ValueError(f"{attribute.name} must be an aware UTC datetime, got {value!r}")


@functools.total_ordering
@attrs.frozen(kw_only=True)
class BackupName:
    """The name of one backup: ``file_<tier>_<UTC timestamp>.dump``.

    Ordered by time first (then by tier name), so ``max()`` of a list is the
    newest backup.
    """

    taken_at: datetime = attrs.field(validator=_must_be_utc)
    tier: Tier

    def __lt__(self, other: object) -> bool:
        # Written out: attrs' generated order builds tuples per comparison, and
        # sorting 10,000 backups for list and prune spent most of its time there.
        if not isinstance(other, BackupName):
            return NotImplemented
        if self.taken_at != other.taken_at:
            return self.taken_at < other.taken_at
        return self.tier.value < other.tier.value

    @classmethod
    def for_run(cls, *, tier: Tier, at: datetime) -> BackupName:
        """Return the name of a backup started at ``at`` (any aware time), to the second."""
        return cls(tier=tier, taken_at=at.astimezone(UTC).replace(microsecond=0))

    @classmethod
    def parse(cls, text: str) -> BackupName:
        """Return the name ``text`` spells.

        Raises:
            InvalidBackupNameError: ``text`` is not exactly a backup name (a path,
                another file, a bad date), so it must never be touched as a backup.
        """
        match = _NAME.fullmatch(text)
        if match is None:
            raise InvalidBackupNameError(
                f"'{text}' is not a backup name: expected a bare name like "
                "file_daily_2024-07-04T09:00:00Z.dump, as printed by 'controller list'"
            )
        name = cls.from_text(text)
        if name is None:
            raise InvalidBackupNameError(
                f"'{text}' is not a backup name: its timestamp is not a real date"
            )
        return name

    @classmethod
    def from_text(cls, text: str) -> BackupName | None:
        """Return the name ``text`` spells, or None when it is not exactly a backup name
        (no exception: a directory of 10,000 backups holds as many other files)."""
        match = _NAME.fullmatch(text) if text.endswith(".dump") else None
        if match is None:
            return None
        tier, stamp = match.groups()
        try:
            # The pattern fixed the shape; this checks the date (no 30 February).
            taken_at = datetime.fromisoformat(stamp)
        except ValueError:
            return None
        name = cls(tier=_TIERS[tier], taken_at=taken_at)
        # ``text`` is the one spelling of this name: no need to format it again.
        object.__setattr__(name, "_text", text)
        return name

    @classmethod
    def is_backup(cls, text: str) -> bool:
        """Return whether ``text`` is the name of a backup file."""
        return cls.from_text(text) is not None

    @functools.cached_property
    def _text(self) -> str:
        return f"file_{self.tier.value}_{self.taken_at.strftime(_TIMESTAMP_FORMAT)}.dump"

    @property
    def globals_name(self) -> str:
        """Return the name of the globals file kept with this backup."""
        return self._text.removesuffix(".dump") + GLOBALS_SUFFIX

    @property
    def note_name(self) -> str:
        """Return the name of the note kept with this backup when it is partial."""
        return self._text.removesuffix(".dump") + NOTE_SUFFIX

    def __str__(self) -> str:
        return self._text


@attrs.frozen(kw_only=True)
class Backup:
    """A committed backup file of a database, with its size in bytes. ``has_globals``: the
    cluster's globals were saved with it; ``partial``: something was left out of it, by the
    pg_dump arguments ``left_out`` (empty: unknown). A backup just written also knows its
    SHA-256 and the versions of ``pg_dump`` and of the server; one found may not."""

    name: BackupName
    size: int
    has_globals: bool = False
    partial: bool = False
    left_out: tuple[str, ...] = ()
    sha256: str | None = None
    pg_dump_version: str | None = None
    server_version: str | None = None


def sha256sum_digest(text: str, file_name: str) -> str | None:
    """Return the SHA-256 (lowercase) that ``text``, a ``sha256sum`` line for ``file_name``,
    holds; None when ``text`` is not exactly one such line (another file named, no digest):
    how a restore reads a checksum file, and so how a copy off-site is judged."""
    fields = text.split()
    if len(fields) != 2 or fields[1].removeprefix("*") != file_name:
        return None
    return fields[0].lower() if _SHA256.fullmatch(fields[0].lower()) else None


@attrs.frozen(kw_only=True)
class MadeBy:
    """The versions of ``pg_dump`` and of the server an archive says made it (None: unsaid)."""

    pg_dump: str | None = None
    server: str | None = None


@attrs.frozen(kw_only=True)
class StoredArchive:
    """An archive on disk and the SHA-256 recorded for it (None: made before checksums).

    A downloaded copy says, for people, where it came from (``origin``: the off-site
    copy's location, never the temporary file) and what lists its like (``listed_by``)."""

    path: PurePath
    checksum: str | None
    origin: str | None = None
    listed_by: str = "controller list"

    def proven_checksum(self, what: str) -> str:
        """Return the SHA-256 that proves a copy of ``what``; raise ControllerError without."""
        if self.checksum is None:
            raise ControllerError(
                f"{what} has no checksum file (made before checksums were kept): "
                "nothing could prove its off-site copy; delete it or keep it local only"
            )
        return self.checksum
