"""Pure rules: which tier a run gets, and which backups retention keeps."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import TypeAlias
from zoneinfo import ZoneInfo

import attrs

from pg_backup_manager.domain.names import BackupName, Tier

# The product README's periods: what each tier is kept for unless KEEP_* says otherwise.
KEPT_FOR: dict[Tier, timedelta] = {
    Tier.DAILY: timedelta(days=7),
    Tier.WEEKLY: timedelta(days=30),
    Tier.MONTHLY: timedelta(days=365),
}
# From the most frequent tier to the rarest: a rarer tier is never kept for fewer days.
TIERS = (Tier.DAILY, Tier.WEEKLY, Tier.MONTHLY)

_SATURDAY = 5


def tier_of_day(local_day: date) -> Tier:
    """Return the tier of a run on ``local_day`` (the run's date in ``TZ``).

    Monthly on the 1st, weekly on Saturdays, daily otherwise; the 1st wins
    when it is a Saturday.
    """
    if local_day.day == 1:
        return Tier.MONTHLY
    if local_day.weekday() == _SATURDAY:
        return Tier.WEEKLY
    return Tier.DAILY


def tier_of_run(at: datetime, *, timezone: str) -> Tier:
    """Return the tier of a run at ``at``, judged on its local date in ``timezone``."""
    return tier_of_day(at.astimezone(ZoneInfo(timezone)).date())


def dated_in_the_future(
    name: BackupName, *, now: datetime, allowance: timedelta = timedelta(0)
) -> bool:
    """Return whether backup ``name`` is stamped more than ``allowance`` after ``now``.

    Such a backup was not made by a clock that agrees with ``now`` (the clock went
    backwards, or the file was named by hand): retention keeps it without counting it
    among the newest, and freshness ignores it, so it can neither push a real backup
    out nor stand in for one.
    """
    return name.taken_at - now > allowance


@attrs.frozen
class KeepFor:
    """Keep a tier's backups for ``days`` after they were taken (``KEEP_<TIER>_DAYS``)."""

    days: int = attrs.field(validator=attrs.validators.ge(1))

    @property
    def period(self) -> timedelta:
        """Return how long a backup of the tier is kept."""
        return timedelta(days=self.days)


@attrs.frozen
class KeepNewest:
    """Keep the ``copies`` newest backups of a tier, whatever their age (``KEEP_<TIER>``)."""

    copies: int = attrs.field(validator=attrs.validators.ge(1))


TierRule: TypeAlias = KeepFor | KeepNewest


@attrs.frozen(kw_only=True)
class RetentionPolicy:
    """What retention keeps of one database's backups (or of its off-site copies): each
    tier by its own rule, and whatever their age the ``min_kept`` newest (at least one).

    The defaults are the product README's: daily backups 7 days, weekly 30, monthly 365.
    """

    daily: TierRule = KeepFor(days=KEPT_FOR[Tier.DAILY].days)
    weekly: TierRule = KeepFor(days=KEPT_FOR[Tier.WEEKLY].days)
    monthly: TierRule = KeepFor(days=KEPT_FOR[Tier.MONTHLY].days)
    min_kept: int = attrs.field(default=1, validator=attrs.validators.ge(1))

    def rule(self, tier: Tier) -> TierRule:
        """Return the rule of ``tier``."""
        return {Tier.DAILY: self.daily, Tier.WEEKLY: self.weekly, Tier.MONTHLY: self.monthly}[tier]

    def shorter_lived(self) -> tuple[Tier, Tier] | None:
        """Return the first rarer tier kept for fewer days than a more frequent one, with
        that tier (``(weekly, daily)``: weekly backups kept fewer days than daily ones), or
        None. Such a policy deletes each Saturday's (or each 1st's) backup before the daily
        ones around it, a hole in the history nobody asks for; tiers kept by copies are
        not compared (copies and days do not measure the same thing).
        """
        for at, rarer in enumerate(TIERS):
            for frequent in TIERS[:at]:
                short, long = _days(self.rule(rarer)), _days(self.rule(frequent))
                if short is not None and long is not None and short < long:
                    return rarer, frequent
        return None


def _days(rule: TierRule) -> int | None:
    return rule.days if isinstance(rule, KeepFor) else None


class Why(enum.Enum):
    """Why retention keeps or deletes a backup."""

    FUTURE = "dated in the future"  # kept: the clock went backwards
    NEWEST = "among the newest"  # kept: MIN_BACKUPS_KEPT
    WITHIN_PERIOD = "within its period"  # kept: younger than its tier's days
    PAST_PERIOD = "past its period"  # deleted
    AMONG_ITS_COPIES = "among its tier's newest copies"  # kept: KEEP_<TIER>
    PAST_ITS_COPIES = "past its tier's copies"  # deleted


@attrs.frozen(kw_only=True)
class Verdict:
    """What retention decided for one backup, why, and by which rule of its tier."""

    name: BackupName
    keep: bool
    why: Why
    age: timedelta
    rule: TierRule


@attrs.frozen(kw_only=True)
class RetentionPlan:
    """The verdicts on every backup of one database, newest first."""

    verdicts: tuple[Verdict, ...]

    @property
    def to_delete(self) -> tuple[BackupName, ...]:
        """Return the backups this plan deletes."""
        return tuple(v.name for v in self.verdicts if not v.keep)

    @property
    def to_keep(self) -> tuple[BackupName, ...]:
        """Return the backups this plan keeps."""
        return tuple(v.name for v in self.verdicts if v.keep)


DEFAULT_POLICY = RetentionPolicy()


def plan_retention(
    names: Iterable[BackupName], *, now: datetime, policy: RetentionPolicy = DEFAULT_POLICY
) -> RetentionPlan:
    """Return which of ``names`` to keep and delete at ``now`` under ``policy``.

    Age is judged from the timestamp in each name, never from file times. A backup
    is kept while its tier's rule keeps it: its age is at most the tier's days
    (:class:`KeepFor`), or it is among the tier's newest copies (:class:`KeepNewest`).
    Whatever their age, the ``policy.min_kept`` newest backups are kept, so a
    database never loses its last backup. Backups stamped after ``now`` (the clock
    went backwards) are always kept, and count neither among the newest nor among
    their tier's copies: a wrong clock cannot push a real backup out.
    """
    # Unique by spelling, ordered by time then tier (the spelling's order within a
    # second): both without hashing or comparing enums, 10,000 names in a blink.
    unique = {str(name): name for name in names}
    ordered = sorted(unique.values(), key=lambda name: (name.taken_at, str(name)), reverse=True)
    rules = {tier: policy.rule(tier) for tier in TIERS}
    periods = {tier: rule.period for tier, rule in rules.items() if isinstance(rule, KeepFor)}
    seen = dict.fromkeys(TIERS, 0)  # each tier's backups judged so far, newest first
    verdicts = []
    newest_left = policy.min_kept
    for name in ordered:
        tier, age = name.tier, now - name.taken_at
        rule = rules[tier]
        if dated_in_the_future(name, now=now):
            keep, why = True, Why.FUTURE
        else:
            rank, seen[tier] = seen[tier], seen[tier] + 1
            if newest_left > 0:
                newest_left -= 1
                keep, why = True, Why.NEWEST
            elif isinstance(rule, KeepNewest):
                keep = rank < rule.copies
                why = Why.AMONG_ITS_COPIES if keep else Why.PAST_ITS_COPIES
            else:
                keep = age <= periods[tier]
                why = Why.WITHIN_PERIOD if keep else Why.PAST_PERIOD
        verdicts.append(Verdict(name=name, keep=keep, why=why, age=age, rule=rule))
    return RetentionPlan(verdicts=tuple(verdicts))
