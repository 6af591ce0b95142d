"""What ``recover --to`` accepts: ``latest``, an RFC 3339 time, or a local time read in the
controller's time zone (``TZ``), never a guess where the local clock is ambiguous."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

from pg_backup_manager.domain.errors import ConfigurationError
from pg_backup_manager.domain.pitr.recovery.plan import LATEST, Target

_EXAMPLES = "e.g. latest, 2026-12-04T10:15:00Z or '2026-12-04 11:15:00' (read in TZ)"


def parse_target(text: str, zone: tzinfo, zone_name: str) -> Target:
    """Return the target ``text`` names: :data:`LATEST`, or an aware UTC time.

    A time without an offset is read in ``zone`` (named ``zone_name`` in messages).

    Raises:
        ConfigurationError: it is neither; or a local time that the clocks of
            ``zone`` skip (spring forward) or show twice (fall back): give an offset.
    """
    stripped = text.strip()
    if stripped.lower() == "latest":
        return LATEST
    try:
        moment = datetime.fromisoformat(stripped)
    except ValueError:
        raise ConfigurationError(f"--to '{text}' is not a time: {_EXAMPLES}") from None
    if moment.tzinfo is not None:
        return moment.astimezone(UTC)
    first, second = moment.replace(tzinfo=zone, fold=0), moment.replace(tzinfo=zone, fold=1)
    if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != moment:
        raise ConfigurationError(
            f"--to '{text}' never happens in {zone_name} (clocks go forward): "
            "give its offset, or a UTC time ending in Z"
        )
    if first.utcoffset() != second.utcoffset():
        raise ConfigurationError(
            f"--to '{text}' happens twice in {zone_name} (clocks go back): "
            "give its offset, e.g. +01:00, or a UTC time ending in Z"
        )
    return first.astimezone(UTC)
