"""The status page: what it shows of each database, and that nothing from outside can
change the page (every name and error escaped, nothing fetched from anywhere)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest

from pg_backup_manager.adapters.settings import Settings
from pg_backup_manager.domain.errors import ConfigurationError
from pg_backup_manager.domain.history import Operation, Outcome, RunRecord
from pg_backup_manager.domain.model import Database
from pg_backup_manager.domain.monitoring.freshness import DatabaseStatus, database_status
from pg_backup_manager.domain.monitoring.health import HealthReport, Liveness
from pg_backup_manager.domain.monitoring.page import (
    DatabasePage,
    PageReport,
    StatusPage,
    run_points,
)
from pg_backup_manager.domain.monitoring.status import CheckHealth
from pg_backup_manager.domain.names import Backup, BackupName, Tier
from pg_backup_manager.entrypoints.rendering.page import page

from .fakes import FakeHeartbeat, Fakes, database

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
HOSTILE = '<script>alert("x")</script>&<img src=http://evil.example/x>'
HOSTILE_NAME = '<b onclick="x">\''


def run(
    outcome: Outcome, at: datetime, *, size: int | None = 2048, error: str | None = None
) -> RunRecord:
    return RunRecord(
        operation=Operation.SCHEDULED,
        started_at=at - timedelta(seconds=42),
        finished_at=at,
        outcome=outcome,
        size_bytes=size if outcome is Outcome.SUCCESS else None,
        error=error,
    )


def status(
    db: Database, backups: list[Backup], history: list[RunRecord], *, offsite: bool = False
) -> DatabaseStatus:
    return database_status(
        database=db,
        backups=backups,
        history=history,
        now=NOW,
        max_age=timedelta(hours=12),
        next_run_at=NOW + timedelta(hours=6),
        started_at=NOW - timedelta(days=3),
        offsite=offsite,
    )


def backup(age: timedelta, sha256: str | None = None) -> Backup:
    return Backup(name=BackupName.for_run(tier=Tier.DAILY, at=NOW - age), size=4096, sha256=sha256)


def rendered(*found: tuple[DatabaseStatus, list[RunRecord]], production: bool = True) -> str:
    health = HealthReport(
        production=production,
        liveness=Liveness(age=5.0, max_age=180, state=None, now=NOW),
        problem=None,
        databases=tuple(s for s, _ in found),
    )
    shown = tuple(DatabasePage(status=s, runs=tuple(run_points(h))) for s, h in found)
    return page(PageReport(now=NOW, health=health, databases=shown))


class _Elements(HTMLParser):
    """Every start tag and its attributes, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Elements()
    parser.feed(html)
    return parser.tags


def test_a_healthy_database_has_its_row_its_newest_backup_and_two_charts() -> None:
    history = [run(Outcome.SUCCESS, NOW - timedelta(hours=h)) for h in (18, 12, 6)]

    html = rendered((status(database("users"), [backup(timedelta(hours=6))], history), history))

    tags = elements(html)
    assert [a["data-database"] for t, a in tags if t == "tr" and "data-database" in a] == ["users"]
    assert [t for t, _ in tags].count("svg") == 2
    assert "healthy" in html and "unhealthy" not in html
    assert "file_daily_2026-03-04T06:00:00Z.dump" in html and "6 h old" in html
    assert "<title>Backups: healthy</title>" in html


def test_a_failing_database_says_why_as_health_does_and_shows_its_error() -> None:
    history = [
        run(Outcome.SUCCESS, NOW - timedelta(days=2)),
        run(Outcome.FAILURE, NOW - timedelta(hours=1), error="connection refused"),
    ]

    html = rendered((status(database("users"), [backup(timedelta(days=2))], history), history))

    assert "unhealthy" in html
    assert "<li>users: newest backup is 2.0 days old" in html
    assert "last run failed: connection refused" in html
    assert "1 in a row" in html
    assert 'class="failure"' in html  # the failure marked on the charts
    assert "<title>Backups: at fault</title>" in html


def test_a_database_without_backups_yet_says_none_and_draws_empty_charts() -> None:
    html = rendered((status(database("fresh"), [], []), []))

    assert "none yet" in html
    assert html.count("no backup run yet") == 2
    assert "<polyline" not in html


def test_off_site_missing_says_which_and_off_site_off_says_not_configured() -> None:
    missing = status(database("users"), [backup(timedelta(hours=1), "ab" * 32)], [], offsite=True)
    off = status(database("other"), [backup(timedelta(hours=1))], [])

    html = rendered((missing, []), (off, []))

    assert "missing</span> (1 of 1 backup(s) not off-site, the newest among them" in html
    assert "not configured" in html


def test_hostile_names_and_errors_come_out_escaped_and_nothing_is_fetched() -> None:
    hostile = database(f"shop/{HOSTILE_NAME}", every_database=True)
    history = [run(Outcome.FAILURE, NOW - timedelta(hours=1), error=HOSTILE)]

    html = rendered((status(hostile, [], history), history))

    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&lt;img" in html
    assert 'data-database="shop/&lt;b onclick=&quot;x&quot;&gt;&#x27;"' in html
    assert {t for t, _ in elements(html)} <= {
        "html", "head", "meta", "link", "title", "style", "body", "header", "h1", "h2",
        "ul", "li", "p", "a", "main", "table", "thead", "tbody", "tr", "th", "td", "strong",
        "span", "br", "section", "div", "figure", "figcaption", "svg", "rect", "path",
        "text", "polyline", "circle",
    }  # fmt: skip
    links = [a.get("href") or a.get("src") for _, a in elements(html)]
    assert [link for link in links if link] == ["data:,", "status.json", "metrics"]
    assert not re.search(r"(?i)https?://|url\(", html.replace("http://evil.example", ""))


def test_the_page_reads_health_and_the_newest_runs_of_each_database() -> None:
    fakes = Fakes()
    heartbeat = FakeHeartbeat(clock=fakes.clock)
    heartbeat.started(fakes.clock.now())
    heartbeat.beat()
    for hours in range(9, -1, -1):  # oldest first
        fakes.run_log.record(
            "users", run(Outcome.SUCCESS, fakes.clock.now() - timedelta(hours=hours))
        )
    status_ = fakes.status(heartbeat)
    shown = StatusPage(
        check_health=CheckHealth(status=status_, heartbeat=heartbeat),
        histories=fakes.run_log,
        charted_runs=4,
    )

    report = shown([database("users")])

    [users] = report.databases
    assert len(users.runs) == 4
    now = fakes.clock.now()
    assert [r.at for r in users.runs] == [now - timedelta(hours=h) for h in (3, 2, 1, 0)]
    assert report.health.liveness is not None


def test_only_backup_runs_are_charted_and_a_failure_without_error_says_so() -> None:
    records = [
        run(Outcome.SUCCESS, NOW - timedelta(hours=2)),
        RunRecord(
            operation=Operation.VERIFY,
            started_at=NOW - timedelta(hours=1, minutes=1),
            finished_at=NOW - timedelta(hours=1),
            outcome=Outcome.SUCCESS,
        ),
        run(Outcome.FAILURE, NOW),
    ]

    points = run_points(records)

    assert [(p.failed, p.size_bytes, p.error) for p in points] == [
        (False, 2048, None),
        (True, None, "(no error recorded)"),
    ]
    assert points[0].seconds == 42


@pytest.mark.parametrize(
    "given",
    [
        {"METRICS_USER": "ops"},
        {"METRICS_PASSWORD": "pw"},
        {"METRICS_USER": "o:ps", "METRICS_PASSWORD": "pw"},
    ],
)
def test_a_metrics_login_needs_both_a_user_and_a_password_or_neither(given: dict[str, str]) -> None:
    environ = {"DATABASE_LIST": "users", **given}

    with pytest.raises(ConfigurationError, match="METRICS_USER") as raised:
        Settings.from_environ(environ, cwd=Path("/srv"))

    assert "pw" not in str(raised.value).replace("METRICS_PASSWORD", "")


def test_a_metrics_login_is_read_and_never_in_the_settings_repr() -> None:
    environ = {"DATABASE_LIST": "users", "METRICS_USER": "ops", "METRICS_PASSWORD": "s3cr3t-pw"}

    settings = Settings.from_environ(environ, cwd=Path("/srv"))

    assert settings.monitoring.metrics_login == ("ops", "s3cr3t-pw")
    assert "s3cr3t-pw" not in repr(settings)
