"""What ``recover --to`` accepts: ``latest``, an RFC 3339 time, or a local time read in the
controller's time zone (``TZ``), never a guess where the local clock is ambiguous."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo

from pg_backup_manager.domain.errors import ConfigurationError
from pg_backup_manager.domain.pitr.recovery.plan import LATEST, Target

_EXAMPLES = "e.g. latest, 2026-12-04T10:15:00Z or '2026-12-04 11:15:00' (read in TZ)"

# RFC 3339's date-time (T, t or a space between date and time; Z or z for UTC), with
# its seconds optional: a person typing a local time means 11:15:00 by "11:15". Nothing
# else: no week dates, no bare date, no "+0100", no trailing characters.
_TIME = re.compile(
    r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})[Tt ]"
    r"(?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.(?P<fraction>\d+))?)?"
    r"(?:(?P<utc>[Zz])|(?P<sign>[+-])(?P<off_hour>\d{2}):(?P<off_minute>\d{2}))?",
    re.ASCII,
)


def parse_target(text: str, zone: tzinfo, zone_name: str) -> Target:
    """Return the target ``text`` names: :data:`LATEST`, or an aware UTC time.

    A time is ``YYYY-MM-DD[T| ]HH:MM[:SS[.fraction]]`` with an optional ``Z``/``z`` or
    ``±HH:MM`` (a fraction finer than a microsecond is cut to it); one without an
    offset is read in ``zone`` (named ``zone_name`` in messages).

    Raises:
        ConfigurationError: it is neither; or a local time that the clocks of
            ``zone`` skip (spring forward) or show twice (fall back): give an offset
            (the message names the two the zone has then).
    """
    if text.strip().lower() == "latest":
        return LATEST
    moment = _moment(text)
    if moment.tzinfo is not None:
        return moment.astimezone(UTC)
    first, second = moment.replace(tzinfo=zone, fold=0), moment.replace(tzinfo=zone, fold=1)
    if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != moment:
        raise ConfigurationError(
            f"--to '{_shown(text)}' never happens in {zone_name} (clocks go forward): "
            "give its offset, or a UTC time ending in Z"
        )
    if first.utcoffset() != second.utcoffset():
        raise ConfigurationError(
            f"--to '{_shown(text)}' happens twice in {zone_name} (clocks go back): give its "
            f"offset, {_offset(first)} or {_offset(second)}, or a UTC time ending in Z"
        )
    return first.astimezone(UTC)


def _moment(text: str) -> datetime:
    """Return the time ``text`` writes, aware when it has an offset.

    Raises:
        ConfigurationError: it is not one.
    """
    found = _TIME.fullmatch(text)
    try:
        if found is None:
            raise ValueError(text)
        zone: tzinfo | None = UTC if found["utc"] else None
        if found["sign"]:
            offset = timedelta(hours=int(found["off_hour"]), minutes=int(found["off_minute"]))
            if int(found["off_minute"]) >= 60 or offset >= timedelta(hours=24):
                raise ValueError(text)
            zone = timezone(-offset if found["sign"] == "-" else offset)
        return datetime(
            int(found["year"]),
            int(found["month"]),
            int(found["day"]),
            int(found["hour"]),
            int(found["minute"]),
            int(found["second"] or 0),
            int(((found["fraction"] or "") + "000000")[:6]),
            tzinfo=zone,
        )
    except ValueError:
        raise ConfigurationError(f"--to '{_shown(text)}' is not a time: {_EXAMPLES}") from None


def _offset(moment: datetime) -> str:
    offset = moment.utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    minutes = int(abs(offset).total_seconds()) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _shown(text: str) -> str:
    """Return ``text`` as a message shows it: on one line, a newline written ``\\n``."""
    return text if text.isprintable() else text.encode("unicode_escape").decode("ascii")
