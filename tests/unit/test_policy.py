from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pg_backup_manager.domain.backups.policy import KEPT_FOR, Why, plan_retention, tier_of_day
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

    plan = plan_retention(old, now=NOW, min_kept=3)

    assert plan.to_keep == tuple(old[:3])
    assert plan.to_delete == (old[3],)


def test_no_backups_make_an_empty_plan() -> None:
    assert plan_retention([], now=NOW).verdicts == ()


names = st.builds(
    lambda tier, minutes: aged(tier, timedelta(minutes=minutes)),
    st.sampled_from(Tier),
    st.integers(min_value=-10_000, max_value=800 * 24 * 60),
)


@given(st.lists(names, max_size=30), st.integers(min_value=0, max_value=5))
def test_retention_keeps_the_newest_and_exactly_what_the_policy_allows(
    backups: list[BackupName], min_kept: int
) -> None:
    plan = plan_retention(backups, now=NOW, min_kept=min_kept)

    past = sorted((name for name in set(backups) if name.taken_at <= NOW), reverse=True)
    newest = set(past[: max(min_kept, 1)])
    assert set(plan.to_keep) | set(plan.to_delete) == set(backups)
    assert not set(plan.to_keep) & set(plan.to_delete)
    assert newest <= set(plan.to_keep)
    for name in plan.to_delete:
        assert NOW - name.taken_at > KEPT_FOR[name.tier]
    for name in plan.to_keep:
        within = timedelta(0) > NOW - name.taken_at or NOW - name.taken_at <= KEPT_FOR[name.tier]
        assert within or name in newest
