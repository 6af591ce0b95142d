from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pg_backup_manager.domain.backups.policy import (
    DEFAULT_POLICY,
    KeepFor,
    KeepNewest,
    RetentionPolicy,
    TierRule,
    Why,
    plan_retention,
    tier_of_day,
)
from pg_backup_manager.domain.names import BackupName, Tier

NOW = datetime(2024, 7, 4, 9, 0, tzinfo=UTC)


def aged(tier: Tier, age: timedelta) -> BackupName:
    return BackupName.for_run(tier=tier, at=NOW - age)


def test_a_run_on_the_first_of_the_month_is_monthly() -> None:
    assert tier_of_day(date(2024, 7, 1)) is Tier.MONTHLY


def test_a_run_on_a_saturday_is_weekly() -> None:
    assert tier_of_day(date(2024, 7, 6)) is Tier.WEEKLY


def test_any_other_run_is_daily() -> None:
    assert tier_of_day(date(2024, 7, 4)) is Tier.DAILY


def test_monthly_wins_when_the_first_is_a_saturday() -> None:
    assert date(2024, 6, 1).weekday() == 5

    assert tier_of_day(date(2024, 6, 1)) is Tier.MONTHLY


@pytest.mark.parametrize(
    ("tier", "days"), [(Tier.DAILY, 7), (Tier.WEEKLY, 30), (Tier.MONTHLY, 365)]
)
def test_a_backup_is_kept_through_its_period_and_deleted_after(tier: Tier, days: int) -> None:
    newest = aged(Tier.DAILY, timedelta(hours=1))
    on_the_edge = aged(tier, timedelta(days=days))
    past_it = aged(tier, timedelta(days=days, seconds=1))

    plan = plan_retention([newest, on_the_edge, past_it], now=NOW)

    assert plan.to_keep == (newest, on_the_edge)
    assert plan.to_delete == (past_it,)


def test_the_newest_backup_is_kept_however_old_it_is() -> None:
    ancient = aged(Tier.DAILY, timedelta(days=900))
    older = aged(Tier.MONTHLY, timedelta(days=1000))

    plan = plan_retention([older, ancient], now=NOW)

    assert plan.to_keep == (ancient,)
    assert plan.to_delete == (older,)
    assert plan.verdicts[0].why is Why.NEWEST


def test_a_backup_dated_in_the_future_is_never_deleted() -> None:
    future = aged(Tier.DAILY, timedelta(days=-3))
    newest_past = aged(Tier.DAILY, timedelta(hours=2))

    plan = plan_retention([future, newest_past], now=NOW)

    assert plan.to_delete == ()
    assert plan.verdicts[0].why is Why.FUTURE


def test_a_backup_from_the_future_does_not_push_the_newest_real_one_out() -> None:
    future = aged(Tier.DAILY, timedelta(days=-3))
    only_real = aged(Tier.DAILY, timedelta(days=20))

    plan = plan_retention([future, only_real], now=NOW)

    assert plan.to_delete == ()


def test_the_minimum_kept_keeps_that_many_newest_whatever_their_age() -> None:
    old = [aged(Tier.DAILY, timedelta(days=days)) for days in (10, 11, 12, 13)]

    plan = plan_retention(old, now=NOW, policy=RetentionPolicy(min_kept=3))

    assert plan.to_keep == tuple(old[:3])
    assert plan.to_delete == (old[3],)


def test_no_backups_make_an_empty_plan() -> None:
    assert plan_retention([], now=NOW).verdicts == ()


def test_the_default_policy_is_the_product_readmes_7_30_and_365_days() -> None:
    assert (
        RetentionPolicy(daily=KeepFor(7), weekly=KeepFor(30), monthly=KeepFor(365), min_kept=1)
        == DEFAULT_POLICY
    )


@pytest.mark.parametrize(
    ("tier", "days"), [(Tier.DAILY, 3), (Tier.WEEKLY, 45), (Tier.MONTHLY, 730)]
)
def test_a_tier_kept_for_other_days_is_kept_through_them_and_deleted_after(
    tier: Tier, days: int
) -> None:
    policy = RetentionPolicy(daily=KeepFor(3), weekly=KeepFor(45), monthly=KeepFor(730))
    newest = aged(Tier.DAILY, timedelta(hours=1))
    on_the_edge = aged(tier, timedelta(days=days))
    past_it = aged(tier, timedelta(days=days, seconds=1))

    plan = plan_retention([newest, on_the_edge, past_it], now=NOW, policy=policy)

    assert plan.to_keep == (newest, on_the_edge)
    assert plan.to_delete == (past_it,)
    assert [v.rule for v in plan.verdicts[1:]] == [KeepFor(days), KeepFor(days)]


def test_a_tier_kept_by_copies_keeps_its_newest_whatever_their_age_and_no_more() -> None:
    policy = RetentionPolicy(weekly=KeepNewest(2))
    weeklies = [aged(Tier.WEEKLY, timedelta(days=days)) for days in (1, 200, 400, 401)]
    daily = aged(Tier.DAILY, timedelta(hours=2))

    plan = plan_retention([daily, *weeklies], now=NOW, policy=policy)

    assert plan.to_keep == (daily, weeklies[0], weeklies[1])
    assert plan.to_delete == (weeklies[2], weeklies[3])
    assert [v.why for v in plan.verdicts] == [
        Why.NEWEST,
        Why.AMONG_ITS_COPIES,
        Why.AMONG_ITS_COPIES,
        Why.PAST_ITS_COPIES,
        Why.PAST_ITS_COPIES,
    ]


def test_copies_count_only_their_own_tier_and_the_newest_kept_among_them() -> None:
    policy = RetentionPolicy(daily=KeepNewest(2), min_kept=1)
    dailies = [aged(Tier.DAILY, timedelta(hours=hours)) for hours in (1, 7, 13)]
    monthly = aged(Tier.MONTHLY, timedelta(hours=3))

    plan = plan_retention([*dailies, monthly], now=NOW, policy=policy)

    # The newest daily is both MIN_BACKUPS_KEPT's and the first of its two copies.
    assert plan.to_keep == (dailies[0], monthly, dailies[1])
    assert plan.to_delete == (dailies[2],)


def test_a_backup_dated_in_the_future_is_kept_and_never_takes_a_copys_place() -> None:
    policy = RetentionPolicy(daily=KeepNewest(1))
    future = aged(Tier.DAILY, timedelta(days=-2))
    newest = aged(Tier.DAILY, timedelta(days=1))
    older = aged(Tier.DAILY, timedelta(days=2))

    plan = plan_retention([future, newest, older], now=NOW, policy=policy)

    assert plan.to_keep == (future, newest)
    assert plan.to_delete == (older,)


def test_the_minimum_kept_wins_over_a_smaller_count() -> None:
    policy = RetentionPolicy(daily=KeepNewest(1), min_kept=3)
    dailies = [aged(Tier.DAILY, timedelta(days=days)) for days in (1, 2, 3, 4)]

    plan = plan_retention(dailies, now=NOW, policy=policy)

    assert plan.to_keep == tuple(dailies[:3])
    assert plan.to_delete == (dailies[3],)


@pytest.mark.parametrize(
    ("policy", "shorter"),
    [
        (RetentionPolicy(), None),
        (RetentionPolicy(daily=KeepFor(30), weekly=KeepFor(30), monthly=KeepFor(30)), None),
        (RetentionPolicy(daily=KeepFor(31)), (Tier.WEEKLY, Tier.DAILY)),
        (RetentionPolicy(monthly=KeepFor(29)), (Tier.MONTHLY, Tier.WEEKLY)),
        (RetentionPolicy(daily=KeepFor(400), weekly=KeepNewest(2)), (Tier.MONTHLY, Tier.DAILY)),
        (RetentionPolicy(daily=KeepNewest(900), weekly=KeepFor(1), monthly=KeepNewest(1)), None),
    ],
)
def test_a_rarer_tier_kept_fewer_days_than_a_more_frequent_one_is_found(
    policy: RetentionPolicy, shorter: tuple[Tier, Tier] | None
) -> None:
    assert policy.shorter_lived() == shorter


@pytest.mark.parametrize("make", [lambda: KeepFor(0), lambda: KeepNewest(0)])
def test_a_rule_keeps_at_least_one_day_or_one_copy(make: Callable[[], TierRule]) -> None:
    with pytest.raises(ValueError, match="must be >= 1"):
        make()


names = st.builds(
    lambda tier, minutes: aged(tier, timedelta(minutes=minutes)),
    st.sampled_from(Tier),
    st.integers(min_value=-10_000, max_value=800 * 24 * 60),
)
rules = st.one_of(
    st.builds(KeepFor, st.integers(min_value=1, max_value=800)),
    st.builds(KeepNewest, st.integers(min_value=1, max_value=8)),
)
policies = st.one_of(
    st.just(DEFAULT_POLICY),
    st.builds(
        RetentionPolicy,
        daily=rules,
        weekly=rules,
        monthly=rules,
        min_kept=st.integers(min_value=1, max_value=5),
    ),
)


@given(st.lists(names, max_size=30), policies)
def test_retention_keeps_the_newest_and_exactly_what_the_policy_allows(
    backups: list[BackupName], policy: RetentionPolicy
) -> None:
    plan = plan_retention(backups, now=NOW, policy=policy)

    past = sorted((name for name in set(backups) if name.taken_at <= NOW), reverse=True)
    newest = set(past[: policy.min_kept])
    assert set(plan.to_keep) | set(plan.to_delete) == set(backups)
    assert not set(plan.to_keep) & set(plan.to_delete)
    assert newest <= set(plan.to_keep)
    for name in past:
        rule = policy.rule(name.tier)
        if isinstance(rule, KeepFor):
            allowed = NOW - name.taken_at <= timedelta(days=rule.days)
        else:
            allowed = [n for n in past if n.tier is name.tier].index(name) < rule.copies
        assert (name in plan.to_keep) == (name in newest or allowed)
    assert {name for name in backups if name.taken_at > NOW} <= set(plan.to_keep)
