"""The status page against outside texts and dates: errors cut short, characters that do
not print written as the commands write them, and the charts' time axis."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from pg_backup_manager.domain.history import Outcome
from pg_backup_manager.domain.monitoring.health import HealthReport, Liveness
from pg_backup_manager.domain.monitoring.page import StatusPage
from pg_backup_manager.domain.monitoring.status import CheckHealth
from pg_backup_manager.entrypoints.rendering.charts import (
    EXPLAINED_FAILURES,
    LEFT,
    SHOWN_CHARACTERS,
    WIDTH,
)
from pg_backup_manager.entrypoints.rendering.page import page
from pg_backup_manager.entrypoints.rendering.status import NOT_PRODUCTION
from pg_backup_manager.entrypoints.rendering.status import health as health_lines

from .fakes import FakeHeartbeat, Fakes, database
from .test_status_page import NOW, backup, rendered, run, status


def test_each_error_is_cut_after_300_characters_and_only_the_newest_failures_explained() -> None:
    huge = "E" * 5_000_000
    history = [run(Outcome.FAILURE, NOW - timedelta(minutes=m), error=huge) for m in range(500)]

    html = rendered((status(database("users"), [backup(timedelta(hours=1))], history), history))

    shown = "E" * SHOWN_CHARACTERS + "…"
    assert "E" * (SHOWN_CHARACTERS + 1) not in html
    # the row's error, the verdict's and the why's, and the newest in each chart's tooltips
    assert html.count(shown) <= 3 + 2 * EXPLAINED_FAILURES and html.count(shown) >= 2
    assert html.count('class="failure"') == 2 * 500
    assert len(html) < 500_000


def test_control_and_bidirectional_characters_are_written_as_the_commands_write_them() -> None:
    named = database("shop/invoice\u202efdp.exe", every_database=True)
    error = "bad\x00byte \x1b[31mred\u2066x\u2069"
    history = [run(Outcome.FAILURE, NOW - timedelta(hours=1), error=error)]

    html = rendered((status(named, [], history), history))

    assert not any(c in html for c in "\x00\x1b\u202a\u202b\u202c\u202d\u202e\u2066\u2069")
    assert "shop/invoice\\u202efdp.exe" in html
    assert "bad\\x00byte \\x1b[31mred\\u2066x\\u2069" in html


def test_an_unreadable_history_is_said_in_its_row_as_status_warns() -> None:
    fakes = Fakes()
    heartbeat = FakeHeartbeat(clock=fakes.clock)
    fakes.run_log.problems["users"] = "not a regular file"
    check = CheckHealth(status=fakes.status(heartbeat), heartbeat=heartbeat)
    page_of = StatusPage(check_health=check, histories=fakes.run_log)

    html = page(page_of([database("users")]))

    assert "the run history could not be read (not a regular file)" in html
    assert "never" not in html


def test_outside_production_a_row_says_freshness_is_not_judged_as_health_does() -> None:
    old = status(database("users"), [], [])
    health = health_lines(
        HealthReport(
            production=False,
            liveness=Liveness(age=5.0, max_age=180, state=None, now=NOW),
            problem=None,
            databases=(old,),
        )
    )

    html = rendered((old, []), production=False)

    assert [line.text for line in health] == [f"error: {NOT_PRODUCTION}"]
    assert "no backup yet" not in html and "more than 12 h" not in html
    assert "freshness not judged: MODE is not &#x27;production&#x27;" in html
    assert '<span class="muted">not judged</span>' in html and "unhealthy" not in html


def test_a_run_dated_far_in_the_past_or_future_does_not_squash_the_others() -> None:
    real = [run(Outcome.SUCCESS, NOW - timedelta(hours=h), size=3 * 2**30) for h in (30, 20, 10)]
    history = [
        run(Outcome.SUCCESS, datetime(1, 1, 2, tzinfo=UTC)),
        *real,
        run(Outcome.SUCCESS, datetime(9999, 12, 30, tzinfo=UTC)),
    ]

    html = rendered((status(database("users"), [backup(timedelta(hours=10))], history), history))

    size_chart = html.split("<svg")[1]
    xs = [float(x) for x in re.findall(r'<circle class="dot" cx="([\d.]+)"', size_chart)]
    assert len(xs) == 3 and max(xs) - min(xs) > (WIDTH - LEFT) / 2  # spread, not one point
    assert "2 not charted" in html and "0001-" not in html and "9999-" not in html
    assert 'preserveAspectRatio="xMidYMid meet"' in size_chart
    assert ">3.0 GiB</text>" in size_chart
