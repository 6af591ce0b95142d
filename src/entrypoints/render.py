"""What the operator reads: the use cases' reports as text, on stdout, errors on stderr."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

import click

from pg_backup_manager.domain.backups.policy import Why
from pg_backup_manager.domain.errors import BusyError
from pg_backup_manager.domain.restore.globals import Kind

if TYPE_CHECKING:  # each command imports only the use cases it runs
    from pg_backup_manager.domain.backups.backing_up import OffsiteAfterBackup
    from pg_backup_manager.domain.backups.dumping import DumpReport
    from pg_backup_manager.domain.backups.policy import Verdict
    from pg_backup_manager.domain.backups.pruning import PruneResult
    from pg_backup_manager.domain.backups.scheduled_run import PruneFailure, RunReport
    from pg_backup_manager.domain.model import Database, Layout
    from pg_backup_manager.domain.names import Backup, OffsiteCopy
    from pg_backup_manager.domain.offsite.sync import SyncReport
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


def dump(report: DumpReport) -> None:
    """Print each backup made, each shared copy, each failure, and a summary of several."""
    for result in report.results:
        identifier = result.database.identifier
        if result.backup is not None:
            click.echo(f"{identifier}: created {result.backup.name} ({size(result.backup.size)})")
        if result.shared_copy is not None:
            click.echo(f"{identifier}: copied to {result.shared_copy}")
        if result.error is not None:
            error(f"{identifier}: {one_line(result.error)}")
    if len(report.results) > 1:
        failed = ", ".join(result.database.identifier for result in report.failed)
        done = len(report.results) - len(report.failed)
        click.echo(
            f"dumped {done} of {len(report.results)} databases"
            + (f"; failed: {failed}" if failed else "")
        )


def offsite_after_backup(uploads: Sequence[OffsiteAfterBackup]) -> None:
    """Print each copy uploaded after a dump, and one error line per new backup that is
    not off-site yet."""
    for upload in uploads:
        identifier = upload.sync.database.identifier
        for copy in upload.sync.uploaded:
            click.echo(f"{identifier}: uploaded {copy.name} ({size(copy.size)})")
        for copy in upload.sync.completed:
            click.echo(f"{identifier}: {completed(copy)}")
        if upload.sync.error is not None:
            error(f"{identifier}: {offsite_missing(upload)}")


def offsite_missing(upload: OffsiteAfterBackup) -> str:
    """Return what a failed upload after a dump means, on one line (empty: it did not fail)."""
    if upload.sync.error is None:
        return ""
    return (
        f"{upload.backup} exists locally but is not off-site yet "
        f"({len(upload.sync.missing)} backup(s) not off-site, kept locally; the next run "
        f"uploads them): {one_line(upload.sync.error)}"
    )


def backups(identifier: str, found: Sequence[Backup], layout: Layout) -> None:
    """Print the backups of ``identifier`` as a table, newest first."""
    if not found:
        click.echo(f"no backups of {identifier} in {layout.backup_dir(identifier)}")
        return
    texts = [str(backup.name) for backup in found]
    width = max(map(len, texts))
    lines = [f"{'NAME':<{width}}  {'TIER':<7}  {'TAKEN (UTC)':<19}  {'SIZE':<10}  GLOBALS"]
    for backup, text in zip(found, texts, strict=True):
        # Read off the name's exact spelling, file_<tier>_<YYYY-mm-ddTHH:MM:SS>Z.dump:
        # 10,000 rows without a date format or an enum lookup each.
        tier, stamp = text[5:].split("_", 1)
        kept = backup.name.globals_name if backup.has_globals else "-"
        lines.append(
            f"{text:<{width}}  {tier:<7}  {stamp[:19].replace('T', ' '):<19}  "
            f"{size(backup.size):<10}  {kept}"
        )
    click.echo("\n".join(lines))  # one write: a list of 10,000 backups is common


def offsite_copies(identifier: str, found: Sequence[OffsiteCopy], location: str) -> None:
    """Print the off-site copies of ``identifier`` as a table, newest first."""
    if not found:
        click.echo(f"no off-site copies of {identifier} in {location}")
        return
    width = max(len(str(copy.name)) for copy in found)
    lines = [f"{'NAME':<{width}}  {'TIER':<7}  {'TAKEN (UTC)':<19}  {'SIZE':<10}  GLOBALS"]
    for copy in found:
        taken = copy.name.taken_at.isoformat(sep=" ")[:19]
        kept = copy.name.globals_name if copy.has_globals else "-"
        unusable = "" if copy.problem is None else f"  UNUSABLE: {copy.problem}"
        lines.append(
            f"{copy.name!s:<{width}}  {copy.name.tier.value:<7}  {taken:<19}  "
            f"{size(copy.size):<10}  {kept}{unusable}"
        )
    click.echo("\n".join(lines))


def sync(report: SyncReport) -> None:
    """Print each copy uploaded, then per database what is off-site, or why not."""
    for result in report.results:
        identifier = result.database.identifier
        for copy in result.uploaded:
            click.echo(f"{identifier}: uploaded {copy.name} ({size(copy.size)})")
        for copy in result.completed:
            click.echo(f"{identifier}: {completed(copy)}")
        if result.error is None:
            done = f"{len(result.completed)} completed, " if result.completed else ""
            click.echo(
                f"{identifier}: {len(result.uploaded)} uploaded, {done}"
                f"{result.already_offsite} already off-site"
            )
            continue
        kept = (
            f"; {len(result.missing)} backup(s) not off-site, kept locally"
            if result.missing
            else ""
        )
        error(f"{identifier}: {one_line(result.error)}{kept}")


def completed(copy: OffsiteCopy) -> str:
    """Return what completing an off-site copy did, in words."""
    return f"completed {copy.name}: its missing companions uploaded"


def unusable(copy: OffsiteCopy) -> str:
    """Return why an off-site object named like a backup is left out of retention."""
    return f"not usable: {copy.problem}; not counted, never deleted"


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


def prune(results: Sequence[PruneResult], *, remote: bool = False) -> None:
    """Print each backup (``remote``: off-site copy) with what happens to it and why, and
    a count per database."""
    for result in results:
        identifier = result.database.identifier
        deleting = "would delete" if result.dry_run else "delete"
        if result.plan.verdicts:  # one write: a plan of 10,000 backups is common
            click.echo(
                "\n".join(
                    f"{identifier}: {'keep  ' if verdict.keep else deleting} {verdict.name} "
                    f"({reason(verdict)})"
                    for verdict in result.plan.verdicts
                )
            )
        for copy in result.unusable:
            click.echo(f"{identifier}: leave  {copy.name} ({unusable(copy)})")
        deleted = "would be deleted" if result.dry_run else "deleted"
        total = len(result.plan.verdicts)
        what = "off-site copies" if remote else "backups"
        left = f"; {len(result.unusable)} unusable left alone" if result.unusable else ""
        click.echo(f"{identifier}: {len(result.plan.to_delete)} of {total} {what} {deleted}{left}")


def reason(verdict: Verdict) -> str:
    """Return why retention keeps or deletes a backup, in words."""
    # Only the words needed: a plan of 10,000 backups is common.
    match verdict.why:
        case Why.FUTURE:
            said = "dated in the future: is the clock wrong?"
        case Why.NEWEST:
            said = f"{_age(verdict.age)} old, among the newest: always kept"
        case Why.WITHIN_PERIOD:
            said = f"{_age(verdict.age)} old, kept {verdict.period.days} days"
        case Why.PAST_PERIOD:
            said = f"{_age(verdict.age)} old, past {verdict.period.days} days"
    return f"{verdict.name.tier.value}, {said}"


def reset(report: ResetReport) -> None:
    """Print what ``pg_resetwal`` said, where the evidence is, and what to do next."""
    click.echo(report.output.rstrip())
    if report.dry_run:
        click.echo("dry run: nothing was changed")
        return
    click.echo(f"saved pg_control, pg_wal and the tools' reports in {report.evidence}")
    click.echo(NEXT_STEPS.format(identifier=report.database.identifier))


def log_run(report: RunReport, log: logging.Logger) -> None:
    """Log what a scheduled run did, database by database: its backup or failure, then
    what went off-site and what retention deleted, locally and off-site."""
    pruned = {result.database.identifier: result for result in report.pruned}
    offsite = {upload.sync.database.identifier: upload for upload in report.offsite}
    pruned_offsite = {result.database.identifier: result for result in report.pruned_offsite}
    for result in report.dumps.results:
        identifier = result.database.identifier
        if isinstance(result.error, BusyError):
            log.warning("%s: skipped, not stacked: %s", identifier, result.error)
            continue
        if result.backup is None:
            log.error("%s: dump failed: %s", identifier, result.error)
            continue
        log.info("%s: created %s", identifier, result.backup.name)
        if result.error is not None:
            log.error("%s: %s", identifier, result.error)
        upload = offsite.get(identifier)
        if upload is not None:
            for copy in upload.sync.uploaded:
                log.info("%s: uploaded %s off-site", identifier, copy.name)
            for copy in upload.sync.completed:
                log.info("%s: %s off-site", identifier, completed(copy))
            if not upload.succeeded:
                log.error("%s: %s", identifier, offsite_missing(upload))
        _log_retention(log, identifier, pruned.get(identifier), "")
        _log_retention(log, identifier, pruned_offsite.get(identifier), "off-site ")


def run_errors(report: RunReport) -> dict[str, str]:
    """Return the one-line error of each database a scheduled run failed: its dump's, or
    else its new backup's not being off-site (it exists, but only on this host)."""
    errors = {
        result.database.identifier: one_line(result.error)
        for result in report.dumps.failed
        if result.error is not None
    }
    for upload in report.offsite:
        if not upload.succeeded:
            errors.setdefault(upload.sync.database.identifier, offsite_missing(upload))
    return errors


def _log_retention(
    log: logging.Logger,
    identifier: str,
    retention: PruneResult | PruneFailure | None,
    where: str,
) -> None:
    """Log what retention (``where``: "" or "off-site ") deleted, or why it failed."""
    from pg_backup_manager.domain.backups.scheduled_run import PruneFailure  # the scheduler's only

    if isinstance(retention, PruneFailure):
        log.error("%s: %sretention failed: %s", identifier, where, retention.error)
    elif retention is not None:
        for verdict in retention.plan.verdicts:
            if not verdict.keep:
                log.info("%s: deleted %s%s (%s)", identifier, where, verdict.name, reason(verdict))
            elif verdict.why is Why.FUTURE:
                log.warning("%s: %s%s is %s", identifier, where, verdict.name, reason(verdict))
        for copy in retention.unusable:
            log.warning("%s: %s%s is %s", identifier, where, copy.name, unusable(copy))


def error(message: str) -> None:
    """Print ``message`` as one error line on stderr."""
    click.echo(f"error: {message}", err=True)


def size(amount: int) -> str:
    """Return ``amount`` bytes in B, KiB, MiB or GiB."""
    value = float(amount)
    for unit in ("B", "KiB", "MiB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


def one_line(error: BaseException) -> str:
    """Return the message of ``error`` on one line."""
    return " ".join(str(error).split())


def _age(age: timedelta) -> str:
    if age < timedelta(days=1):
        return f"{age.total_seconds() / 3600:.0f} h"
    return f"{age.total_seconds() / 86400:.1f} days"
