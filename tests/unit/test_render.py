"""What the operator reads, from the use cases' reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pg_backup_manager.domain.names import BackupName, Tier
from pg_backup_manager.domain.policy import plan_retention
from pg_backup_manager.entrypoints.render import reason, size

NOW = datetime(2024, 7, 4, 9, 0, tzinfo=UTC)


def aged(tier: Tier, age: timedelta) -> BackupName:
    return BackupName.for_run(tier=tier, at=NOW - age)


def test_every_verdict_says_why_in_words() -> None:
    plan = plan_retention(
        [
            aged(Tier.DAILY, timedelta(days=-1)),
            aged(Tier.DAILY, timedelta(days=1)),
            aged(Tier.WEEKLY, timedelta(hours=30)),
            aged(Tier.DAILY, timedelta(days=9)),
        ],
        now=NOW,
    )

    assert [reason(v) for v in plan.verdicts] == [
        "daily, dated in the future: is the clock wrong?",
        "daily, 1.0 days old, among the newest: always kept",
        "weekly, 1.2 days old, kept 30 days",
        "daily, 9.0 days old, past 7 days",
    ]


@pytest.mark.parametrize(
    ("amount", "said"),
    [(0, "0 B"), (1023, "1023 B"), (1024, "1.0 KiB"), (5 << 20, "5.0 MiB"), (3 << 30, "3.0 GiB")],
)
def test_sizes_are_in_binary_units(amount: int, said: str) -> None:
    assert size(amount) == said
