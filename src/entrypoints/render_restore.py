"""What the operator reads of ``restore``, ``restore-from-shared``, ``verify`` and
``resetwal``: their reports as text, on stdout, errors on stderr."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

from pg_backup_manager.domain.restore.globals import Kind
from pg_backup_manager.entrypoints.render import error, one_line

if TYPE_CHECKING:  # each command imports only the use cases it runs
    from pg_backup_manager.domain.model import Database
    from pg_backup_manager.domain.restore.globals import RolePlan
    from pg_backup_manager.domain.restore.restoring import RestoreReport, RestoreResult
    from pg_backup_manager.domain.restore.scratch import LeftoverPlan
    from pg_backup_manager.domain.restore.verifying import VerifyReport
    from pg_backup_manager.domain.wal.reset import ResetReport

_PLAIN_NAME = re.compile(r"[a-z_][a-z0-9_$]*")
NEXT_STEPS = (
    "next: start the server, dump the database at once "
    "('controller dump {identifier}'), then re-create the cluster and restore that dump: "
    "a reset WAL can hide lost or inconsistent data"
)


def restore(report: RestoreReport) -> None:
    """Print what a restore recovered, saved and loaded."""
    target = report.database
    leftovers(target, report.leftovers)
    if report.safety_backup is not None:
        click.echo(
            f"{target.identifier}: saved the content it replaced as {report.safety_backup.name}"
        )
    if report.roles is not None:
        roles(target, report.roles)
    checked = "checksum verified"
    if not report.checksum_verified:
        checked = "no checksum file, archive checked"
    click.echo(
        f"{target.identifier}: restored {report.archive.name} into {target.address} ({checked})"
    )


def roles(target: Database, plan: RolePlan) -> None:
    """Print which roles a restore created from the globals, and what it left alone."""
    ident = target.identifier
    if plan.created:
        click.echo(f"{ident}: created roles {_names(plan.created)} from the backup's globals")
    else:
        click.echo(f"{ident}: created no roles: the server has every role of the backup's globals")
    if plan.without_password:
        click.echo(
            f"{ident}: {_names(plan.without_password)} may log in but the globals hold no "
            "password for them (dumped by a user who may not read passwords, or none was "
            "set): set one with ALTER ROLE ... PASSWORD if they need it"
        )
    if plan.existing:
        click.echo(f"{ident}: left existing roles as they are: {_names(plan.existing)}")
    tablespaces = sum(1 for statement in plan.skipped if statement.kind is Kind.TABLESPACE)
    if tablespaces:
        click.echo(
            f"{ident}: skipped {tablespaces} tablespace statements of the globals: "
            "create the tablespaces the dump needs by hand"
        )


def _names(names: Sequence[str]) -> str:
    """Return role names as SQL would need them: quoted unless plain."""
    return ", ".join(
        name if _PLAIN_NAME.fullmatch(name) else '"' + name.replace('"', '""') + '"'
        for name in names
    )


def restores(results: Sequence[RestoreResult]) -> None:
    """Print each restore of ``restore-from-shared`` and each failure."""
    for result in results:
        if result.report is not None:
            restore(result.report)
        if result.error is not None:
            error(f"{result.database.identifier}: {one_line(result.error)}")


def restored_count(results: Sequence[RestoreResult]) -> None:
    """Print how many of several databases were restored."""
    if len(results) > 1:
        failed = sum(result.error is not None for result in results)
        click.echo(f"restored {len(results) - failed} of {len(results)} databases")


def leftovers(target: Database, plan: LeftoverPlan) -> None:
    """Print, on stderr, what was recovered of an interrupted run and what is left."""
    for name in plan.drop:
        click.echo(f"{target.identifier}: dropped {name}, left by an interrupted run", err=True)
    if plan.put_back is not None:
        click.echo(
            f"{target.identifier}: database '{target.dbname}' was missing: put back "
            f"{plan.put_back}, set aside by an interrupted restore",
            err=True,
        )
    for name in plan.keep:
        click.echo(
            f"{target.identifier}: {name} holds content an interrupted restore replaced; "
            "drop it when you no longer need it",
            err=True,
        )


def verify(reports: Sequence[VerifyReport]) -> None:
    """Print the verdict on each backup."""
    for report in reports:
        identifier = report.database.identifier
        leftovers(report.database, report.leftovers)
        for check in report.checks:
            if not check.passed:
                click.echo(f"{identifier}: FAILED {check.name}: {check.problem}")
                continue
            detail = "checksum and archive ok"
            if check.tables is not None:
                detail += f"; restored {check.tables} tables, row counts match"
            click.echo(f"{identifier}: ok {check.name}: {detail}")
        if not report.checks:
            click.echo(f"{identifier}: no backups to verify")


def reset(report: ResetReport) -> None:
    """Print what ``pg_resetwal`` said, where the evidence is, and what to do next."""
    click.echo(report.output.rstrip())
    if report.dry_run:
        click.echo("dry run: nothing was changed")
        return
    click.echo(f"saved pg_control, pg_wal and the tools' reports in {report.evidence}")
    click.echo(NEXT_STEPS.format(identifier=report.database.identifier))
