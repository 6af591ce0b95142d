"""The variables of retention: how long each tier's backups are kept, in days or in
copies, locally and off-site. They are read together (one rule per tier, the rarer tiers
kept no shorter) by :func:`pg_backup_manager.adapters.retention_settings.retention`."""

from __future__ import annotations

from typing import Any

from pg_backup_manager.adapters.configuration.variable import Variable
from pg_backup_manager.adapters.env_values import count, optional
from pg_backup_manager.domain.backups.policy import KEPT_FOR
from pg_backup_manager.domain.names import Tier

_WHICH = {
    Tier.DAILY: "daily backup",
    Tier.WEEKLY: "weekly backup (Saturday's)",
    Tier.MONTHLY: "monthly backup (the 1st's)",
}
_NO_SHORTER = {
    Tier.DAILY: "",
    Tier.WEEKLY: " No fewer than `KEEP_DAILY_DAYS` (exit 2).",
    Tier.MONTHLY: " No fewer than `KEEP_WEEKLY_DAYS` and `KEEP_DAILY_DAYS` (exit 2).",
}


def _days(tier: Tier) -> Variable[int]:
    name = f"KEEP_{tier.name}"
    return Variable(
        name=f"{name}_DAYS",
        parse=count,
        default=str(KEPT_FOR[tier].days),
        help=f"Days a {_WHICH[tier]} is kept after it was taken, judged from its name (1 to "
        f"10000; see [Retention](#retention)).{_NO_SHORTER[tier]}",
    )


def _copies(tier: Tier) -> Variable[int | None]:
    name = f"KEEP_{tier.name}"
    return Variable(
        name=name,
        parse=optional(count),
        unset=f"(off: `{name}_DAYS` counts)",
        help=f"Instead of `{name}_DAYS`: how many of the newest {tier.value} backups are kept, "
        "whatever their age (1 to 10000). Copies, not days: each run of the tier makes one "
        "(four a day by default). Setting both is exit 2.",
    )


def _offsite(tier: Tier, local: Variable[Any], other: Variable[Any]) -> Variable[int | None]:
    return Variable(
        name=f"OFFSITE_{local.name}",
        parse=optional(count),
        unset=f"the local rule (`{local.name}` or `{other.name}`)",
        help=f"`{local.name}` for the off-site copies: set, the {tier.value} copies off-site "
        f"follow it instead of the local rule. Setting it and `OFFSITE_{other.name}` is exit 2.",
    )


KEEP_DAILY_DAYS = _days(Tier.DAILY)
KEEP_WEEKLY_DAYS = _days(Tier.WEEKLY)
KEEP_MONTHLY_DAYS = _days(Tier.MONTHLY)
KEEP_DAILY = _copies(Tier.DAILY)
KEEP_WEEKLY = _copies(Tier.WEEKLY)
KEEP_MONTHLY = _copies(Tier.MONTHLY)
DAYS = {Tier.DAILY: KEEP_DAILY_DAYS, Tier.WEEKLY: KEEP_WEEKLY_DAYS, Tier.MONTHLY: KEEP_MONTHLY_DAYS}
COPIES = {Tier.DAILY: KEEP_DAILY, Tier.WEEKLY: KEEP_WEEKLY, Tier.MONTHLY: KEEP_MONTHLY}
OFFSITE_KEEP_DAILY_DAYS = _offsite(Tier.DAILY, KEEP_DAILY_DAYS, KEEP_DAILY)
OFFSITE_KEEP_WEEKLY_DAYS = _offsite(Tier.WEEKLY, KEEP_WEEKLY_DAYS, KEEP_WEEKLY)
OFFSITE_KEEP_MONTHLY_DAYS = _offsite(Tier.MONTHLY, KEEP_MONTHLY_DAYS, KEEP_MONTHLY)
OFFSITE_KEEP_DAILY = _offsite(Tier.DAILY, KEEP_DAILY, KEEP_DAILY_DAYS)
OFFSITE_KEEP_WEEKLY = _offsite(Tier.WEEKLY, KEEP_WEEKLY, KEEP_WEEKLY_DAYS)
OFFSITE_KEEP_MONTHLY = _offsite(Tier.MONTHLY, KEEP_MONTHLY, KEEP_MONTHLY_DAYS)
OFFSITE_DAYS = {
    Tier.DAILY: OFFSITE_KEEP_DAILY_DAYS,
    Tier.WEEKLY: OFFSITE_KEEP_WEEKLY_DAYS,
    Tier.MONTHLY: OFFSITE_KEEP_MONTHLY_DAYS,
}
OFFSITE_COPIES = {
    Tier.DAILY: OFFSITE_KEEP_DAILY,
    Tier.WEEKLY: OFFSITE_KEEP_WEEKLY,
    Tier.MONTHLY: OFFSITE_KEEP_MONTHLY,
}

# In the order `controller config` prints them: the local ones after core's, the off-site
# ones after the other off-site variables.
VARIABLES: tuple[Variable[Any], ...] = (*DAYS.values(), *COPIES.values())
OFFSITE_VARIABLES: tuple[Variable[Any], ...] = (*OFFSITE_DAYS.values(), *OFFSITE_COPIES.values())
