"""What the operator reads: the use cases' reports as text, on stdout, errors on stderr."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

import click

from pg_backup_manager.domain.backups.policy import Why
from pg_backup_manager.domain.errors import BusyError

if TYPE_CHECKING:  # each command imports only the use cases it runs
    from pg_backup_manager.domain.backups.backing_up import OffsiteAfterBackup
    from pg_backup_manager.domain.backups.dumping import DumpReport
    from pg_backup_manager.domain.backups.policy import Verdict
    from pg_backup_manager.domain.backups.pruning import PruneResult
    from pg_backup_manager.domain.backups.scheduled_run import PruneFailure, RunReport
    from pg_backup_manager.domain.model import Layout
    from pg_backup_manager.domain.names import Backup, OffsiteCopy


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


def completed(copy: OffsiteCopy) -> str:
    """Return what completing an off-site copy did, in words."""
    return f"completed {copy.name}: its missing companions uploaded"


def unusable(copy: OffsiteCopy) -> str:
    """Return why an off-site object named like a backup is left out of retention."""
    return f"not usable: {copy.problem}; not counted, never deleted"


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
