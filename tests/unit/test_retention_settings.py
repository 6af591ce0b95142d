"""KEEP_* and OFFSITE_KEEP_*: read together and checked strictly (``config``'s view of them
is in ``test_config_report``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pg_backup_manager.adapters.configuration import retention as declared
from pg_backup_manager.adapters.retention_settings import Retention
from pg_backup_manager.adapters.settings import Settings
from pg_backup_manager.domain.backups.policy import KeepFor, KeepNewest, RetentionPolicy
from pg_backup_manager.domain.errors import ConfigurationError

EVERY_NAME = [v.name for v in (*declared.VARIABLES, *declared.OFFSITE_VARIABLES)]


def retention(**environ: str) -> Retention:
    return Settings.from_environ({"DATABASE_LIST": "users", **environ}, cwd=Path("/srv")).retention


def test_unset_everything_is_kept_as_today_locally_and_off_site() -> None:
    today = RetentionPolicy(daily=KeepFor(7), weekly=KeepFor(30), monthly=KeepFor(365))

    assert retention() == Retention(local=today, offsite=today)


def test_each_tier_takes_its_days_or_its_copies_and_min_backups_kept_goes_everywhere() -> None:
    got = retention(
        KEEP_DAILY_DAYS="3", KEEP_WEEKLY="4", KEEP_MONTHLY_DAYS="400", MIN_BACKUPS_KEPT="2"
    )

    expected = RetentionPolicy(
        daily=KeepFor(3), weekly=KeepNewest(4), monthly=KeepFor(400), min_kept=2
    )
    assert got == Retention(local=expected, offsite=expected)


def test_off_site_a_tier_follows_its_own_variable_and_the_others_the_local_rule() -> None:
    got = retention(
        KEEP_DAILY_DAYS="10",
        KEEP_WEEKLY_DAYS="60",
        OFFSITE_KEEP_DAILY="5",
        OFFSITE_KEEP_MONTHLY_DAYS="1825",
    )

    assert got.local == RetentionPolicy(daily=KeepFor(10), weekly=KeepFor(60))
    assert got.offsite == RetentionPolicy(
        daily=KeepNewest(5), weekly=KeepFor(60), monthly=KeepFor(1825)
    )


@pytest.mark.parametrize("variable", EVERY_NAME)
@pytest.mark.parametrize(
    "value", ["0", "10001", "-1", "7d", "1.5", "\uff17", "seven", " 5", "5 ", "5\n", "+5"]
)
def test_a_value_that_is_not_a_whole_number_from_1_to_10000_names_its_variable(
    variable: str, value: str
) -> None:
    with pytest.raises(ConfigurationError) as raised:
        retention(**{variable: value})

    message = str(raised.value)
    assert message.startswith(f"{variable} must be a whole number from 1 to 10000"), message
    assert "\n" not in message and raised.value.exit_code == 2


@pytest.mark.parametrize("value", ["1", "10000", "42"])
def test_the_range_ends_are_accepted(value: str) -> None:
    got = retention(KEEP_DAILY=value, OFFSITE_KEEP_MONTHLY=value)

    assert got.local.daily == KeepNewest(int(value))
    assert got.offsite.monthly == KeepNewest(int(value))


def test_days_at_the_range_ends_are_accepted() -> None:
    got = retention(KEEP_DAILY_DAYS="1", KEEP_MONTHLY_DAYS="10000")

    assert (got.local.daily, got.local.monthly) == (KeepFor(1), KeepFor(10000))


@pytest.mark.parametrize(
    ("days", "copies"),
    [
        ("KEEP_DAILY_DAYS", "KEEP_DAILY"),
        ("KEEP_MONTHLY_DAYS", "KEEP_MONTHLY"),
        ("OFFSITE_KEEP_WEEKLY_DAYS", "OFFSITE_KEEP_WEEKLY"),
    ],
)
def test_days_and_copies_both_set_for_one_tier_is_an_error_naming_both(
    days: str, copies: str
) -> None:
    with pytest.raises(ConfigurationError) as raised:
        retention(**{days: "400", copies: "3"})

    assert str(raised.value).startswith(f"{days} and {copies} are both set: keep one of them")


def test_the_same_number_in_both_forms_is_still_refused() -> None:
    with pytest.raises(ConfigurationError, match="KEEP_DAILY_DAYS and KEEP_DAILY are both set"):
        retention(KEEP_DAILY_DAYS="7", KEEP_DAILY="7")


@pytest.mark.parametrize(
    ("environ", "said"),
    [
        (
            {"KEEP_DAILY_DAYS": "60"},
            "KEEP_WEEKLY_DAYS=30 (its default) is shorter than KEEP_DAILY_DAYS=60: weekly "
            "backups would be deleted before the daily ones around them; set KEEP_WEEKLY_DAYS "
            "to 60 or more",
        ),
        (
            {"KEEP_WEEKLY_DAYS": "400"},
            "KEEP_MONTHLY_DAYS=365 (its default) is shorter than KEEP_WEEKLY_DAYS=400: monthly "
            "backups would be deleted before the weekly ones around them; set "
            "KEEP_MONTHLY_DAYS to 400 or more",
        ),
        (
            {"KEEP_WEEKLY": "8", "KEEP_DAILY_DAYS": "500"},
            "KEEP_MONTHLY_DAYS=365 (its default) is shorter than KEEP_DAILY_DAYS=500: monthly "
            "backups would be deleted before the daily ones around them; set "
            "KEEP_MONTHLY_DAYS to 500 or more",
        ),
        (
            {"OFFSITE_KEEP_DAILY_DAYS": "45"},
            "off-site: KEEP_WEEKLY_DAYS=30 (its default) is shorter than "
            "OFFSITE_KEEP_DAILY_DAYS=45: weekly backups would be deleted before the daily ones "
            "around them; set OFFSITE_KEEP_WEEKLY_DAYS to 45 or more",
        ),
    ],
)
def test_a_rarer_tier_kept_fewer_days_than_a_more_frequent_one_is_an_error_saying_what_to_set(
    environ: dict[str, str], said: str
) -> None:
    with pytest.raises(ConfigurationError) as raised:
        retention(**environ)

    assert str(raised.value) == said


@pytest.mark.parametrize(
    "environ",
    [
        {"KEEP_DAILY_DAYS": "30", "KEEP_WEEKLY_DAYS": "30", "KEEP_MONTHLY_DAYS": "30"},
        {"KEEP_DAILY": "500", "KEEP_WEEKLY_DAYS": "1"},  # copies are not compared with days
        {"KEEP_DAILY_DAYS": "60", "KEEP_WEEKLY_DAYS": "60", "OFFSITE_KEEP_WEEKLY": "2"},
    ],
)
def test_equal_days_and_tiers_in_copies_are_allowed(environ: dict[str, str]) -> None:
    retention(**environ)
