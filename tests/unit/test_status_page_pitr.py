"""The status page with point-in-time recovery on: the receiver's state and the recoverable
window in each row, the window as a band in the charts; and a database not judged, in
the words of ``status``."""

from __future__ import annotations

import re
from datetime import timedelta
from html import escape

import attrs

from pg_backup_manager.domain.backups.timetable import Schedules
from pg_backup_manager.domain.history import Outcome
from pg_backup_manager.domain.monitoring.freshness import DatabaseStatus, database_status
from pg_backup_manager.domain.monitoring.health import HealthReport, Liveness
from pg_backup_manager.domain.monitoring.page import DatabasePage, PageReport, run_points
from pg_backup_manager.domain.monitoring.pitr_status import PitrStatus
from pg_backup_manager.domain.names import Backup, BackupName, Tier
from pg_backup_manager.domain.pitr.windows import shown_bounds
from pg_backup_manager.entrypoints.rendering.page import page
from pg_backup_manager.entrypoints.rendering.pitr_status import receiver_line
from pg_backup_manager.entrypoints.rendering.status import not_judged
from pg_backup_manager.entrypoints.rendering.status import statuses as status_lines

from .fakes import FakeReceiverStates, database
from .pitr_builders import a_stream, base, minute
from .test_pitr_monitoring import APP, DAILY, down, read, receiving, slot, store_with
from .test_status_page import run

NOW = minute(10)


def with_pitr(pitr: PitrStatus | None, **changes: object) -> DatabaseStatus:
    found = database_status(
        database=APP,
        backups=[
            Backup(name=BackupName.for_run(tier=Tier.DAILY, at=NOW - timedelta(hours=1)), size=9)
        ],
        history=[],
        now=NOW,
        max_age=timedelta(hours=12),
        next_run_at=None,
        started_at=None,
    )
    return attrs.evolve(found, pitr=pitr, **changes)


def rendered(found: DatabaseStatus) -> str:
    health = HealthReport(
        production=True,
        liveness=Liveness(age=5.0, max_age=180, state=None, now=NOW),
        problem=None,
        databases=(found,),
    )
    runs = run_points([run(Outcome.SUCCESS, NOW - timedelta(minutes=5))])
    shown = (DatabasePage(status=found, runs=tuple(runs)),)
    return page(PageReport(now=NOW, health=health, databases=shown))


def cell(html: str, label: str) -> str:
    [found] = re.findall(rf'<td data-label="{label}">(.*?)</td>', html, flags=re.S)
    return found


def test_a_receiving_service_shows_its_receiver_as_status_does_and_its_window_as_a_band() -> None:
    states = FakeReceiverStates()
    states.write("app", receiving(4, slot=slot(3 << 20)))
    pitr = read(store_with(a_stream(), (base(2, 3),), (1, 2, 3, 4, 5)), states)
    assert pitr.healthy and pitr.newest_window is not None
    start, end = shown_bounds(pitr.newest_window)

    html = rendered(with_pitr(pitr))

    recovery = cell(html, "Recovery")
    assert '<span class="ok">ok</span>' in recovery
    assert f"receiver: {escape(receiver_line(pitr))}" in recovery
    assert receiver_line(pitr).startswith("receiving since ")
    assert f"recoverable {start} to {end}" in recovery
    bands = re.findall(r'<rect class="window"[^>]*><title>recoverable ([^<]*)</title>', html)
    assert len(bands) == 2  # one in each chart
    assert "recoverable windows shaded" in html


def test_a_receiver_down_is_at_fault_with_its_error_and_no_window_yet_draws_no_band() -> None:
    states = FakeReceiverStates()
    states.write("app", down(0, error="could not connect: <server gone>"))
    pitr = read(store_with(a_stream(), (), (1, 2)), states, now=minute(30))
    assert not pitr.healthy and pitr.newest_window is None

    html = rendered(with_pitr(pitr))

    recovery = cell(html, "Recovery")
    assert '<span class="bad">at fault</span>' in recovery
    assert "receiver: down since " in recovery
    assert "could not connect: &lt;server gone&gt;" in recovery
    assert "no recoverable window yet" in recovery
    assert '<rect class="window"' not in html
    assert "unhealthy" in cell(html, "State")


def test_without_wal_archiving_recovery_says_off() -> None:
    html = rendered(with_pitr(None, database=database("app")))

    assert "off" in cell(html, "Recovery") and "receiver" not in html


def test_a_database_not_judged_says_why_in_the_words_of_status() -> None:
    found = with_pitr(None, database=database("app"), on_server=False, judged=False)

    html = rendered(found)

    why = not_judged(found)
    assert why.startswith("no longer on its server")
    assert escape(f"not judged: {why}") in cell(html, "State")
    assert any(why in line.text for line in status_lines([found], Schedules(common=DAILY)))
