"""``BACKUP_SCHEDULE`` evaluated by cronsim (the evaluator of Healthchecks.io): the
Schedule port.

Five fields, or one of the macros other tools accept (``@daily`` ...), in the
time zone ``TZ``. Daylight-saving changes are handled as Debian's cron does:
a time that does not exist that day (in the spring-forward gap) runs right
after the jump; a time that occurs twice runs once, the first time (an
expression with ``*`` in the hour field runs in both repeated hours, as cron's
do).
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs
from cronsim import CronSim, CronSimError

from pg_backup_manager.domain.errors import ConfigurationError

DEFAULT_SCHEDULE = "0 3,9,15,21 * * *"
MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}


@attrs.frozen(kw_only=True)
class CronSchedule:
    """A cron expression in a time zone."""

    expression: str
    zone: ZoneInfo

    @classmethod
    def parse(
        cls, expression: str, timezone: str, *, variable: str = "BACKUP_SCHEDULE"
    ) -> CronSchedule:
        """Return the schedule ``expression`` (of ``variable``) describes in ``timezone``.

        Raises:
            ConfigurationError: the expression or the zone is invalid; the
                message names ``variable`` or TZ.
        """
        try:
            zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigurationError(
                f"TZ '{timezone}' is not a known time zone: use an IANA name such as "
                "Europe/Berlin or UTC"
            ) from None
        text = " ".join(expression.split())
        fields = MACROS.get(text.lower(), text)
        try:
            if len(fields.split()) != 5:
                raise CronSimError("wrong number of fields")
            CronSim(fields, datetime(2000, 1, 1, tzinfo=zone))
        except CronSimError as error:
            raise ConfigurationError(
                f"{variable} '{expression}' is not a cron schedule ({error}): use five "
                "fields, minute hour day-of-month month day-of-week, e.g. "
                f"'{DEFAULT_SCHEDULE}', or a macro such as @daily"
            ) from None
        return cls(expression=fields, zone=zone)

    def next_after(self, moment: datetime) -> datetime:
        """Return the first run time strictly after the aware ``moment``, in UTC.

        Raises:
            ValueError: ``moment`` is naive.
        """
        if moment.utcoffset() is None:
            raise ValueError(f"the moment must be an aware datetime, got {moment!r}")
        local = moment.astimezone(self.zone)
        return next(CronSim(self.expression, local)).astimezone(UTC)

    def local(self, moment: datetime) -> datetime:
        """Return ``moment`` in the schedule's time zone."""
        return moment.astimezone(self.zone)

    def __str__(self) -> str:
        """Return the expression and its zone, such as ``0 3 * * * (Europe/Berlin)``."""
        return f"{self.expression} ({self.zone.key})"
