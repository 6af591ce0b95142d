"""What the operator reads of ``restore``, ``restore-from-shared``, ``verify`` and
``resetwal``: their reports as lines (see :class:`~.backups.Line`)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from pg_backup_manager.domain.dump_options import left_out_words
from pg_backup_manager.domain.restore.globals import Kind
from pg_backup_manager.entrypoints.rendering.backups import Line, error, one_line

if TYPE_CHECKING:  # each command imports only the use cases it runs
    from pg_backup_manager.domain.model import Database
    from pg_backup_manager.domain.restore.from_shared import SharedRestoreReport
    from pg_backup_manager.domain.restore.globals import RolePlan
    from pg_backup_manager.domain.restore.restoring import RestoreReport, RestoreResult
    from pg_backup_manager.domain.restore.scratch import LeftoverPlan
    from pg_backup_manager.domain.restore.verify_each import VerifySummary
    from pg_backup_manager.domain.restore.verifying import VerifyReport
    from pg_backup_manager.domain.wal.reset import ResetReport

_PLAIN_NAME = re.compile(r"[a-z_][a-z0-9_$]*")
NEXT_STEPS = (
    "next: start the server, dump the database at once "
    "('controller dump {identifier}'), then re-create the cluster and restore that dump: "
    "a reset WAL can hide lost or inconsistent data"
)


def restore(report: RestoreReport) -> list[Line]:
    """Return what a restore recovered, saved and loaded."""
    target = report.database
    lines = leftovers(target, report.leftovers)
    if report.safety_backup is not None:
        lines.append(
            Line(
                f"{target.identifier}: saved the content it replaced as {report.safety_backup.name}"
            )
        )
    if report.roles is not None:
        lines += roles(target, report.roles)
    checked = "checksum verified"
    if not report.checksum_verified:
        checked = "no checksum file, archive checked"
    lines.append(
        Line(
            f"{target.identifier}: restored {report.archive.name} into {target.address} ({checked})"
        )
    )
    if report.left_out is not None:
        kept = (
            f"; the safety dump {report.safety_backup.name} holds it"
            if report.safety_backup is not None
            else ""
        )
        lines.append(
            Line(
                f"{target.identifier}: {report.archive.name} is partial "
                f"({left_out_words(report.left_out)}): what it left out is not in "
                f"{target.dbname} now{kept}"
            )
        )
    return lines


def roles(target: Database, plan: RolePlan) -> list[Line]:
    """Return which roles a restore created from the globals, and what it left alone."""
    ident = target.identifier
    lines = []
    if plan.created:
        lines.append(
            Line(f"{ident}: created roles {_names(plan.created)} from the backup's globals")
        )
    else:
        lines.append(
            Line(f"{ident}: created no roles: the server has every role of the backup's globals")
        )
    if plan.without_password:
        lines.append(
            Line(
                f"{ident}: {_names(plan.without_password)} may log in but the globals hold no "
                "password for them (dumped by a user who may not read passwords, or none was "
                "set): set one with ALTER ROLE ... PASSWORD if they need it"
            )
        )
    if plan.existing:
        lines.append(Line(f"{ident}: left existing roles as they are: {_names(plan.existing)}"))
    tablespaces = sum(1 for statement in plan.skipped if statement.kind is Kind.TABLESPACE)
    if tablespaces:
        lines.append(
            Line(
                f"{ident}: skipped {tablespaces} tablespace statements of the globals: "
                "create the tablespaces the dump needs by hand"
            )
        )
    return lines


def _names(names: Sequence[str]) -> str:
    """Return role names as SQL would need them: quoted unless plain."""
    return ", ".join(
        name if _PLAIN_NAME.fullmatch(name) else '"' + name.replace('"', '""') + '"'
        for name in names
    )


def restored(result: RestoreResult) -> list[Line]:
    """Return one restore of ``restore-from-shared``, or its failure."""
    lines = [] if result.report is None else restore(result.report)
    if result.error is not None:
        lines.append(error(f"{result.database.identifier}: {one_line(result.error)}"))
    return lines


def restored_count(report: SharedRestoreReport) -> list[Line]:
    """Return how many of several databases were restored (nothing for one)."""
    total = len(report.results)
    if total <= 1:
        return []
    return [Line(f"restored {report.restored} of {total} databases")]


def leftovers(target: Database, plan: LeftoverPlan) -> list[Line]:
    """Return, for stderr, what was recovered of an interrupted run and what is left."""
    lines = [
        Line(f"{target.identifier}: dropped {name}, left by an interrupted run", err=True)
        for name in plan.drop
    ]
    if plan.put_back is not None:
        lines.append(
            Line(
                f"{target.identifier}: database '{target.dbname}' was missing: put back "
                f"{plan.put_back}, set aside by an interrupted restore",
                err=True,
            )
        )
    lines += [
        Line(
            f"{target.identifier}: {name} holds content an interrupted restore replaced; "
            "drop it when you no longer need it",
            err=True,
        )
        for name in plan.keep
    ]
    return lines


def verify(reports: Sequence[VerifyReport]) -> list[Line]:
    """Return the verdict on each backup."""
    lines = []
    for report in reports:
        identifier = report.database.identifier
        lines += leftovers(report.database, report.leftovers)
        for check in report.checks:
            if not check.passed:
                lines.append(Line(f"{identifier}: FAILED {check.name}: {check.problem}"))
                continue
            detail = "checksum and archive ok"
            if check.tables is not None:
                detail += f"; restored {check.tables} tables, row counts match"
            lines.append(Line(f"{identifier}: ok {check.name}: {detail}"))
        if not report.checks:
            lines.append(Line(f"{identifier}: no backups to verify"))
    return lines


def verified(summary: VerifySummary) -> list[Line]:
    """Return the error of a verify that found backups at fault (nothing if none was)."""
    return [] if summary.error is None else [error(summary.error)]


def reset(report: ResetReport) -> list[Line]:
    """Return what ``pg_resetwal`` said, where the evidence is, and what to do next."""
    lines = [Line(report.output.rstrip())]
    if report.dry_run:
        return [*lines, Line("dry run: nothing was changed")]
    return [
        *lines,
        Line(f"saved pg_control, pg_wal and the tools' reports in {report.evidence}"),
        Line(NEXT_STEPS.format(identifier=report.database.identifier)),
    ]
