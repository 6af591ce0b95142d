"""``KEEP_*`` and ``OFFSITE_KEEP_*`` read together into the retention policies of the
local backups and of the off-site copies.

Each tier has one rule, in days or in copies, never both; off-site, a tier follows the
local rule unless one of its ``OFFSITE_KEEP_*`` is set; and in each place no rarer tier
is kept fewer days than a more frequent one (see
:meth:`~pg_backup_manager.domain.backups.policy.RetentionPolicy.shorter_lived`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from pg_backup_manager.adapters.configuration.retention import (
    COPIES,
    DAYS,
    OFFSITE_COPIES,
    OFFSITE_DAYS,
)
from pg_backup_manager.adapters.configuration.variable import Variable
from pg_backup_manager.domain.backups.policy import (
    DEFAULT_POLICY,
    TIERS,
    KeepFor,
    KeepNewest,
    RetentionPolicy,
    TierRule,
)
from pg_backup_manager.domain.errors import ConfigurationError
from pg_backup_manager.domain.names import Tier


@attrs.frozen(kw_only=True)
class Retention:
    """The retention policies of the local backups and of their off-site copies."""

    local: RetentionPolicy = DEFAULT_POLICY
    offsite: RetentionPolicy = DEFAULT_POLICY


@attrs.frozen(kw_only=True)
class _Said:
    """A tier's rule and the variable that says it (set, or the local default)."""

    rule: TierRule
    variable: str
    default: bool = False

    @property
    def number(self) -> int:
        """Return the days or the copies of the rule."""
        return self.rule.days if isinstance(self.rule, KeepFor) else self.rule.copies

    def __str__(self) -> str:
        return f"{self.variable}={self.number}" + (" (its default)" if self.default else "")


def retention(environ: Mapping[str, str], *, min_kept: int) -> Retention:
    """Return the policies ``environ`` sets, each keeping at least the ``min_kept`` newest.

    Raises:
        ConfigurationError: a variable is not a whole number from 1 to 10000, a tier's
            days and copies are both set, or a rarer tier is kept fewer days than a more
            frequent one; the message names the variables.
    """
    local, offsite = _rules(environ)
    return Retention(
        local=_policy(local, min_kept=min_kept, fix=DAYS, where=""),
        offsite=_policy(offsite, min_kept=min_kept, fix=OFFSITE_DAYS, where="off-site: "),
    )


def shown(environ: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    """Return what ``controller config`` shows of each retention variable that does not
    say its tier's rule, when it is unset: the number it follows (an off-site one the
    local rule's) and the variable it follows, or ``(off)`` and the variable that counts.
    """
    local, offsite = _rules(environ)
    derived = {}
    for says, days, copies in ((local, DAYS, COPIES), (offsite, OFFSITE_DAYS, OFFSITE_COPIES)):
        for tier in TIERS:
            said = says[tier]
            for variable, form in ((days[tier], KeepFor), (copies[tier], KeepNewest)):
                if variable.name == said.variable:
                    continue
                if isinstance(said.rule, form):
                    derived[variable.name] = (str(said.number), f"as {said.variable}")
                else:
                    derived[variable.name] = ("(off)", f"{said.variable} counts")
    return derived


def _rules(environ: Mapping[str, str]) -> tuple[dict[Tier, _Said], dict[Tier, _Said]]:
    local = {tier: _local(environ, tier) for tier in TIERS}
    offsite = {tier: _offsite(environ, tier) or local[tier] for tier in TIERS}
    return local, offsite


def _local(environ: Mapping[str, str], tier: Tier) -> _Said:
    days, copies = DAYS[tier], COPIES[tier]
    _one_of(environ, days, copies)
    if (number := copies.read(environ)) is not None:
        return _Said(rule=KeepNewest(number), variable=copies.name)
    unset = days.found(environ) is None
    return _Said(rule=KeepFor(days.read(environ)), variable=days.name, default=unset)


def _offsite(environ: Mapping[str, str], tier: Tier) -> _Said | None:
    days, copies = OFFSITE_DAYS[tier], OFFSITE_COPIES[tier]
    _one_of(environ, days, copies)
    if (number := copies.read(environ)) is not None:
        return _Said(rule=KeepNewest(number), variable=copies.name)
    if (number := days.read(environ)) is not None:
        return _Said(rule=KeepFor(number), variable=days.name)
    return None


def _one_of(environ: Mapping[str, str], days: Variable[Any], copies: Variable[Any]) -> None:
    if days.found(environ) is not None and copies.found(environ) is not None:
        raise ConfigurationError(
            f"{days.name} and {copies.name} are both set: keep one of them (a tier is kept "
            "for a number of days or as a number of copies, not both)"
        )


def _policy(
    says: dict[Tier, _Said], *, min_kept: int, fix: dict[Tier, Variable[Any]], where: str
) -> RetentionPolicy:
    policy = RetentionPolicy(
        daily=says[Tier.DAILY].rule,
        weekly=says[Tier.WEEKLY].rule,
        monthly=says[Tier.MONTHLY].rule,
        min_kept=min_kept,
    )
    shorter = policy.shorter_lived()
    if shorter is not None:
        rarer, frequent = shorter
        raise ConfigurationError(
            f"{where}{says[rarer]} is shorter than {says[frequent]}: {rarer.value} backups "
            f"would be deleted before the {frequent.value} ones around them; set "
            f"{fix[rarer].name} to {says[frequent].number} or more"
        )
    return policy
