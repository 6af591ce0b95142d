"""The status page: ``health``'s judgement of every database, and the runs its charts draw.

Pure values and one use case that reads them through the ports ``health`` and ``status``
read: the backups' names and the run histories, never a tool or a server.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import attrs

from pg_backup_manager.domain.history import BACKUP_OPERATIONS, Outcome, RunRecord
from pg_backup_manager.domain.model import Database
from pg_backup_manager.domain.monitoring.freshness import DatabaseStatus
from pg_backup_manager.domain.monitoring.health import HealthReport
from pg_backup_manager.domain.monitoring.ports import HistoryReads
from pg_backup_manager.domain.monitoring.status import CheckHealth

# How many backup runs a chart draws at most: the newest; a history keeps 1000 records.
CHARTED_RUNS = 500
# How old the scheduler's heartbeat may be before the page says it is not alive: the
# default of ``controller health --max-age``.
HEARTBEAT_MAX_AGE = 180


@attrs.frozen(kw_only=True)
class RunPoint:
    """One backup run (a scheduled run or a dump) as a chart draws it: when it ended, how
    long it took, the size of the backup it made (None: it failed, or did not say) and
    its error when it failed."""

    at: datetime
    seconds: float
    size_bytes: int | None
    failed: bool
    error: str | None = None


@attrs.frozen(kw_only=True)
class DatabasePage:
    """One database on the page: its status, its newest backup runs (oldest first) and
    why its history could not be read at all (None: it was, or there is none)."""

    status: DatabaseStatus
    runs: tuple[RunPoint, ...] = ()
    history_problem: str | None = None


@attrs.frozen(kw_only=True)
class PageReport:
    """The whole page at ``now``: ``health``'s report and each database with its runs."""

    now: datetime
    health: HealthReport
    databases: tuple[DatabasePage, ...]


def run_points(records: Sequence[RunRecord], *, limit: int = CHARTED_RUNS) -> list[RunPoint]:
    """Return the newest ``limit`` backup runs of ``records`` (oldest first) as points; a
    failure without a recorded error says ``(no error recorded)``."""
    runs = [record for record in records if record.operation in BACKUP_OPERATIONS]
    points = []
    for record in runs[-limit:] if limit > 0 else []:
        failed = record.outcome is Outcome.FAILURE
        points.append(
            RunPoint(
                at=record.finished_at,
                seconds=max((record.finished_at - record.started_at).total_seconds(), 0.0),
                size_bytes=None if failed else record.size_bytes,
                failed=failed,
                error=(record.error or "(no error recorded)") if failed else None,
            )
        )
    return points


@attrs.frozen(kw_only=True)
class StatusPage:
    """What the status page shows: the judgement of ``health`` (the scheduler alive, each
    database fresh, its WAL and verifications sound) and each database's newest runs.
    Each history is read once for all of it: the judgement and the charts."""

    check_health: CheckHealth
    histories: HistoryReads
    charted_runs: int = CHARTED_RUNS

    def __call__(self, databases: Sequence[Database]) -> PageReport:
        """Return the page of ``databases`` (a service with every database of its server:
        each database known of it, as ``status`` shows them)."""
        history = self.histories.read_once()
        report = self.check_health.reading(history)(
            databases, max_heartbeat_age=HEARTBEAT_MAX_AGE, liveness_only=False
        )
        shown = tuple(
            DatabasePage(
                status=status,
                runs=tuple(
                    run_points(history.records(status.database.identifier), limit=self.charted_runs)
                ),
                history_problem=history.problem(status.database.identifier),
            )
            for status in report.databases
        )
        return PageReport(now=self.check_health.status.clock.now(), health=report, databases=shown)
