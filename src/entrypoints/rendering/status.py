"""What the operator reads of ``health``, ``status`` and ``config``: their reports as lines
(see :class:`~pg_backup_manager.entrypoints.rendering.backups.Line`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from pg_backup_manager.adapters.config_report import Entry
from pg_backup_manager.domain.backups.timetable import Schedules
from pg_backup_manager.domain.history import Outcome, RunRecord
from pg_backup_manager.domain.monitoring.freshness import DatabaseStatus
from pg_backup_manager.domain.monitoring.health import HealthReport, Verdict
from pg_backup_manager.domain.monitoring.pitr_rules import span
from pg_backup_manager.domain.offsite.status import OffsiteStatus
from pg_backup_manager.entrypoints.rendering.backups import (
    Line,
    error,
    one_line,
    partial,
    size,
)
from pg_backup_manager.entrypoints.rendering.documents import time
from pg_backup_manager.entrypoints.rendering.pitr_status import pitr_lines
from pg_backup_manager.entrypoints.rendering.verification import verify_lines


def stale_heartbeat(report: HealthReport) -> str:
    """Return the error of a scheduler that is not alive: its heartbeat too old, or the
    scheduler too late for the run it waits for or with the run in progress."""
    liveness = report.liveness
    assert liveness is not None
    state = liveness.state
    if liveness.fault == "overdue" and state is not None:
        return (
            f"the scheduled run due at {time(state.due_at)} has not started "
            f"({liveness.late:.0f} s late, more than {liveness.max_age:.0f} s): "
            "'controller start' is stuck"
        )
    if liveness.fault == "stuck" and state is not None:
        assert state.busy_since is not None and state.busy_until is not None
        bound = (state.busy_until - state.busy_since).total_seconds()
        return (
            f"the run in progress since {time(state.busy_since)} has outlasted its bound "
            f"of {bound:.0f} s by {liveness.late:.0f} s (more than {liveness.max_age:.0f} s): "
            "'controller start' is stuck"
        )
    return (
        f"the scheduler's last heartbeat was {liveness.age:.0f} s ago (more than "
        f"{liveness.max_age:.0f} s): 'controller start' is stuck or gone"
    )


NOT_PRODUCTION = (
    "MODE is not 'production': nothing is scheduled, so no backup is kept fresh; "
    "'controller health --liveness' checks only that the controller runs"
)


def health(report: HealthReport) -> list[Line]:
    """Return what ``health`` concludes: why the scheduler is not alive, that it lives,
    that nothing is scheduled, one line per database at fault (on stderr), or that all
    is well."""
    match report.verdict:
        case Verdict.NO_HEARTBEAT:
            return [error(one_line(report.problem or "no heartbeat"))]
        case Verdict.NOT_ALIVE:
            return [error(stale_heartbeat(report))]
        case Verdict.ALIVE:
            assert report.liveness is not None
            return [Line(f"ok: the scheduler's last heartbeat was {report.liveness.age:.0f} s ago")]
        case Verdict.NOT_PRODUCTION:  # and what runs whatever MODE says, at fault
            return [error(NOT_PRODUCTION)] + [
                error(line)
                for status in report.faults_in_any_mode
                for line in faults(status, freshness=False)
            ]
        case Verdict.FAULTS:
            return [error(line) for status in report.faults for line in faults(status)]
        case Verdict.HEALTHY:
            newest = ", ".join(
                (
                    f"{s.database.identifier} {age(s.newest_age)} old"
                    if s.newest_age is not None
                    else f"{s.database.identifier} none yet"
                )
                + (f" ({len(s.future)} dated in the future, ignored)" if s.future else "")
                + (f" (WAL {_wal(s)})" if s.pitr is not None else "")
                for s in report.databases
            )
            return [Line(f"ok: the scheduler is alive; newest backups: {newest}")]


def faults(status: DatabaseStatus, *, freshness: bool = True) -> list[str]:
    """Return why ``status`` is not healthy, one line per fault: its backups not fresh
    (unless not ``freshness``: nothing keeps them fresh), then each fault of its WAL
    archiving, then its last scheduled verification failed."""
    said = [] if status.fresh or not freshness else [fault(status)]
    if status.pitr is not None:
        said.extend(f"{status.database.identifier}: {line}" for line in status.pitr.faults)
    if status.verification is not None:
        said.extend(f"{status.database.identifier}: {line}" for line in status.verification.faults)
    return said


def fault(status: DatabaseStatus) -> str:
    """Return why the backups of ``status`` are not fresh, in one line."""
    identifier = status.database.identifier
    if status.newest is None:
        said = f"{identifier}: no backup yet"
    else:
        said = f"{identifier}: newest backup is {age(status.newest_age)} old ({status.newest.name})"
    said += f", more than {age(status.max_age)}"
    if status.future:
        said += f"; {_future(status)}"
    if status.consecutive_failures and status.last_failure is not None:
        said += f"; last run failed: {_error(status.last_failure)}"
    return said


def _wal(status: DatabaseStatus) -> str:
    """Return what the receiver of a healthy ``status`` does: receiving, down, unknown."""
    receiver = None if status.pitr is None else status.pitr.receiver
    return "unknown yet" if receiver is None else receiver.condition.value


def _future(status: DatabaseStatus) -> str:
    """Return how many backups of ``status`` are dated in the future (never the newest)."""
    return f"{len(status.future)} backup(s) dated in the future ignored ({_names(status)})"


def statuses(found: Sequence[DatabaseStatus], schedules: Schedules) -> list[Line]:
    """Return the status of each database as a short block, its next run also in the time
    zone of its schedule of ``schedules``."""
    said: list[str] = []
    add = said.append
    for status in found:
        newest = status.newest
        add(f"{status.database.identifier}: {'healthy' if status.healthy else 'UNHEALTHY'}")
        if not status.judged:
            add(f"  not judged:       {not_judged(status)}")
        if newest is None:
            add("  newest backup:    none")
        else:
            add(
                f"  newest backup:    {newest.name} ({size(newest.size)}, "
                f"{age(status.newest_age)} old)"
                + (f", {partial(newest)}" if newest.partial else "")
            )
        if status.future:
            add(f"  dated in future:  {len(status.future)} backup(s) ignored: {_names(status)}")
        add(f"  last success:     {_when(status, 'success')}")
        add(f"  last failure:     {_when(status, 'failure')}")
        if status.consecutive_failures:
            add(f"  failing:          {status.consecutive_failures} run(s) in a row")
        if status.history_unreadable_lines:
            skipped = status.history_unreadable_lines
            add(f"  history:          {skipped} unreadable line(s) skipped")
        tiers = ", ".join(f"{count} {tier.value}" for tier, count in status.backups_by_tier.items())
        add(f"  backups:          {tiers}; {size(status.total_bytes)} in all")
        schedule = schedules.of(status.database.identifier)
        if status.next_run_at is None:
            add("  next run:         none (MODE is not 'production')")
        else:
            local = schedule.local(status.next_run_at).isoformat()
            add(f"  next run:         {time(status.next_run_at)} ({local})")
        if status.offsite is not None:
            add(f"  {offsite(status.offsite)}")
        if status.pitr is not None:
            said.extend(pitr_lines(status.pitr))
        if status.verification is not None:
            said.extend(verify_lines(status.verification, schedule))
    return [Line(line) for line in said]


def not_judged(status: DatabaseStatus) -> str:
    """Return why the freshness of ``status`` is not judged (see ``judged``)."""
    if status.on_server is False:
        return (
            "no longer on its server at its last listing (dropped, or excluded): its backups "
            "are kept, and retention thins them to the newest"
        )
    return (
        "the service itself: each database of its server is shown as "
        f"{status.database.identifier}/<database>"
    )


def offsite(found: OffsiteStatus) -> str:
    """Return ``off-site: ok (...)`` or ``off-site: missing (...)``: how many backups are
    not off-site, whether the newest is among them, and how the last sync ended."""
    if found.complete:
        said = f"ok ({found.backups} backup(s) off-site"
    else:
        newest = ", the newest among them" if found.newest_missing else ""
        said = f"missing ({len(found.missing)} of {found.backups} backup(s) not off-site{newest}"
    last = found.last_sync
    if last is None:
        said += "; no sync yet"
    elif last.outcome is Outcome.FAILURE:
        said += f"; last sync failed at {time(last.finished_at)}: {_error(last)}"
    else:
        said += f"; last sync {time(last.finished_at)}"
    return f"off-site: {said})"


def configuration(entries: Sequence[Entry]) -> list[Line]:
    """Return each variable with its value and where it came from."""
    width = max(len(entry.variable) for entry in entries)
    return [
        Line(f"{entry.variable:<{width}}  {entry.value or '(empty)'}  [{entry.source}]")
        for entry in entries
    ]


def age(length: timedelta | None) -> str:
    """Return ``length`` rounded to what a person reads: s, min, h or days."""
    return span(length or timedelta(0))


def _names(status: DatabaseStatus, shown: int = 3) -> str:
    names = [str(name) for name in status.future[:shown]]
    return ", ".join(names) + (", ..." if len(status.future) > shown else "")


def _when(status: DatabaseStatus, outcome: str) -> str:
    record = status.last_success if outcome == "success" else status.last_failure
    if record is None:
        return "never"
    said = f"{time(record.finished_at)} ({record.operation.value})"
    failed = record.error or record.outcome is Outcome.FAILURE
    return f"{said}: {_error(record)}" if failed else said


def _error(record: RunRecord) -> str:
    """Return the error of a failed ``record``; a history line may have lost it, or held
    something other than text there (read as unknown)."""
    return record.error or "(no error recorded)"
