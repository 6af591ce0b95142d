"""What the operator reads of ``recover`` (what was written, and how to start it) and of
``verify --pitr``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pg_backup_manager.domain.pitr.wal_names import format_lsn
from pg_backup_manager.entrypoints.rendering.backups import Line, error, one_line

if TYPE_CHECKING:  # each command imports only the use cases it runs
    from pg_backup_manager.domain.pitr.recovery.recovering import RecoverReport
    from pg_backup_manager.domain.pitr.recovery.verifying import VerifyPitrReport

_SHOWN = "%Y-%m-%dT%H:%M:%SZ"


def shown(moment: datetime) -> str:
    """Return ``moment`` in UTC to the second, or to the millisecond when it has a fraction."""
    utc = moment.astimezone(UTC)
    if utc.microsecond == 0:
        return utc.strftime(_SHOWN)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def recover(report: RecoverReport) -> list[Line]:
    """Return what ``recover`` wrote and the steps that bring the server back."""
    ident = report.identifier
    if report.error is not None:
        return [error(f"{ident}: {one_line(report.error)}")]
    plan = report.plan
    assert plan is not None
    source = plan.source
    base, stream = source.base_backup, source.window.stream
    if plan.target is None:
        goal = f"to the end of the WAL received ({source.window.end_at.astimezone(UTC):{_SHOWN}})"
    else:
        goal = f"to {shown(plan.target)}"
    lines = [
        Line(
            f"{ident}: wrote {report.into}: base backup {base.name} of stream {stream.name} "
            f"and {len(source.wal)} WAL segment(s); a PostgreSQL {stream.server_major} server "
            f"started on it recovers {goal}, then promotes"
        )
    ]
    if plan.note is not None:
        lines.append(Line(f"{ident}: {plan.note}"))
    lines += [
        Line(
            f"{ident}: next: start a PostgreSQL {stream.server_major} server with {report.into} "
            f"as its data directory (e.g. the postgres:{stream.server_major} image with that "
            "volume), wait until it accepts writes, check the data, then point the service at it"
        ),
        Line(
            f"{ident}: the controller then sees a new timeline and begins a new stream with a "
            "base backup; the old window stays as it was"
        ),
    ]
    return lines


def verified(report: VerifyPitrReport) -> list[Line]:
    """Return what ``verify --pitr`` proved of one service, or why it could not."""
    ident = report.identifier
    if report.error is not None:
        return [error(f"{ident}: point-in-time recovery not proven: {one_line(report.error)}")]
    proof = report.proof
    assert proof is not None
    window = proof.window
    return [
        Line(
            f"{ident}: ok: base backup {proof.base} of stream {window.stream.name} recovered "
            f"to the newest WAL ({format_lsn(proof.replayed)}, "
            f"{window.end_at.astimezone(UTC):{_SHOWN}}) by a PostgreSQL "
            f"{window.stream.server_major} server that promoted and answered, in "
            f"{proof.took.total_seconds():.0f} s"
        )
    ]
