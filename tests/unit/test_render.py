"""What the operator reads, from the use cases' reports."""

from __future__ import annotations

import ast
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pg_backup_manager.domain.backups.policy import plan_retention
from pg_backup_manager.domain.names import BackupName, Tier
from pg_backup_manager.entrypoints import rendering
from pg_backup_manager.entrypoints.rendering import backups as render
from pg_backup_manager.entrypoints.rendering.backups import reason, size
from pg_backup_manager.entrypoints.scheduler import log_run

from .fakes import Fakes, database

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


def test_a_scheduled_run_is_logged_database_by_database(caplog: pytest.LogCaptureFixture) -> None:
    fakes = Fakes()
    expired = "file_daily_2024-05-01T03:00:00Z.dump"
    fakes.store.add("users", expired)
    fakes.store.add("orders", expired)
    run = fakes.backup_run(offsite=False)

    with caplog.at_level(logging.INFO):
        log_run(run.scheduled((database("users"), database("orders")), share=False))

    assert [record.getMessage().split(" (")[0] for record in caplog.records] == [
        "users: created file_daily_2024-07-04T09:00:00Z.dump",
        f"users: deleted {expired}",
        "orders: created file_daily_2024-07-04T09:00:00Z.dump",
        f"orders: deleted {expired}",
    ]


def test_a_scheduled_run_warns_of_an_unusable_object_off_site(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fakes = Fakes()
    stray = BackupName.parse("file_daily_2024-07-03T21:00:00Z.dump")
    fakes.offsite.plant("users", stray, size=12)
    run = fakes.backup_run()

    with caplog.at_level(logging.INFO):
        log_run(run.scheduled((database("users"),), share=False))

    [warning] = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert warning.getMessage() == (
        f"users: off-site {stray} is not usable: no checksum object ({stray}.sha256); "
        "not counted, never deleted"
    )


RENDERERS = Path(rendering.__file__).parent


@pytest.mark.parametrize("module", sorted(path.stem for path in RENDERERS.glob("*.py")))
def test_renderers_are_pure_they_return_text_and_never_write(module: str) -> None:
    source = (RENDERERS / f"{module}.py").read_text()
    imported = {
        alias.name
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in (
            node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")]
        )
    }

    assert not imported & {"click", "sys", "logging.handlers"}
    assert "print(" not in source and ".echo(" not in source and "log." not in source


def test_a_dump_report_renders_as_lines_for_each_stream(capsys: pytest.CaptureFixture[str]) -> None:
    fakes = Fakes()
    fakes.dumper.failing.add("orders")
    report = fakes.backup_run(offsite=False).dump([database("users"), database("orders")])

    lines = render.dump(report)

    assert capsys.readouterr() == ("", "")  # rendering wrote nothing
    assert [(line.err, line.text.split(":")[0]) for line in lines] == [
        (False, "users"),
        (True, "error"),
        (False, "dumped 1 of 2 databases; failed"),
    ]
