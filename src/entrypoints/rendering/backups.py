"""What the operator reads: the use cases' reports as lines of text, each for standard
output or standard error. Renderers are pure: they return lines, the commands echo them.

This module has what ``dump``, ``list`` and ``prune`` print, and what every renderer
shares (:class:`Line`, sizes, one-line errors).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING

import attrs

from pg_backup_manager.domain.backups.policy import KeepFor, Why
from pg_backup_manager.domain.database_names import printable
from pg_backup_manager.domain.dump_options import left_out_words
from pg_backup_manager.domain.errors import one_line

if TYPE_CHECKING:  # each command imports only the use cases it runs
    from pg_backup_manager.domain.backups.backup_run import RunReport
    from pg_backup_manager.domain.backups.listing import Listing
    from pg_backup_manager.domain.backups.policy import Verdict
    from pg_backup_manager.domain.backups.pruning import PruneResult
    from pg_backup_manager.domain.names import Backup
    from pg_backup_manager.domain.offsite_copies import OffsiteCopy

__all__ = ["Line", "block", "document", "error", "one_line", "size"]


@attrs.frozen
class Line:
    """One line for standard output, or standard error (``err``), shown
    :func:`~pg_backup_manager.domain.database_names.printable`; or, ``verbatim``, text
    already made so (a block of such lines: :func:`block`) or a JSON document, exact."""

    text: str
    err: bool = False
    verbatim: bool = False

    @property
    def shown(self) -> str:
        """Return the text to write."""
        return self.text if self.verbatim else printable(self.text)


def block(lines: Iterable[str]) -> Line:
    """Return ``lines``, each :func:`~.database_names.printable`, as one block."""
    return Line("\n".join(printable(line) for line in lines), verbatim=True)


def document(text: str) -> Line:
    """Return a JSON document, exact (its own escapes keep it on its lines)."""
    return Line(text, verbatim=True)


def error(message: str) -> Line:
    """Return ``message`` as one error line, for standard error."""
    return Line(f"error: {message}", err=True)


def dump(report: RunReport) -> list[Line]:
    """Return each backup made, each shared copy, each failure, a summary of several, then
    each copy uploaded after the dumps and one error per new backup not off-site yet."""
    lines = []
    for result in report.dumps.results:
        identifier = result.database.identifier
        if result.backup is not None:
            lines.append(Line(created(identifier, result.backup)))
        if result.shared_copy is not None:
            lines.append(Line(f"{identifier}: copied to {result.shared_copy}"))
        if result.error is not None:
            lines.append(error(f"{identifier}: {one_line(result.error)}"))
    results = report.dumps.results
    if len(results) > 1:
        failed = ", ".join(result.database.identifier for result in report.dumps.failed)
        done = len(results) - len(report.dumps.failed)
        lines.append(
            Line(
                f"dumped {done} of {len(results)} databases"
                + (f"; failed: {failed}" if failed else "")
            )
        )
    for upload in report.offsite:
        identifier = upload.sync.database.identifier
        for copy in upload.sync.uploaded:
            lines.append(Line(f"{identifier}: uploaded {copy.name} ({size(copy.size)})"))
        for copy in upload.sync.completed:
            lines.append(Line(f"{identifier}: {completed(copy)}"))
        if upload.problem is not None:
            lines.append(error(f"{identifier}: {upload.problem}"))
    return lines


def backups(listing: Listing, *, titled: bool = False) -> Line:
    """Return the backups of one database as a table, newest first (one block: a list of
    10,000 backups is common), under ``<database>:`` when ``titled`` (one of several)."""
    identifier, found = listing.database.identifier, listing.backups
    if not found:
        return Line(f"no backups of {identifier} in {listing.location}")
    texts = [str(backup.name) for backup in found]
    width = max(map(len, texts))
    lines = [f"{identifier}:"] if titled else []
    lines.append(f"{'NAME':<{width}}  {'TIER':<7}  {'TAKEN (UTC)':<19}  {'SIZE':<10}  GLOBALS")
    for backup, text in zip(found, texts, strict=True):
        # Read off the name's exact spelling, file_<tier>_<YYYY-mm-ddTHH:MM:SS>Z.dump:
        # 10,000 rows without a date format or an enum lookup each.
        tier, stamp = text[5:].split("_", 1)
        kept = backup.name.globals_name if backup.has_globals else "-"
        lines.append(
            f"{text:<{width}}  {tier:<7}  {stamp[:19].replace('T', ' '):<19}  "
            f"{size(backup.size):<10}  {kept}" + (f"  {partial(backup)}" if backup.partial else "")
        )
    return block(lines)


def created(identifier: str, backup: Backup) -> str:
    """Return that ``backup`` of ``identifier`` was made, with its size and, when it is
    partial, what it left out: ``users: created <name> (1.2 MiB, partial: ...)``, as
    ``dump`` says it and the scheduled run logs it."""
    made = ", ".join(filter(None, [size(backup.size), partial(backup)]))
    return f"{identifier}: created {backup.name} ({made})"


def partial(backup: Backup | OffsiteCopy) -> str:
    """Return ``partial: <what left something out>`` for a partial backup or copy, each
    pg_dump argument quoted as a shell would read it back; "" for a whole one."""
    if not backup.partial:
        return ""
    return f"partial: {left_out_words(backup.left_out)}"


def completed(copy: OffsiteCopy) -> str:
    """Return what completing an off-site copy did, in words."""
    return f"completed {copy.name}: its missing companions uploaded"


def unusable(copy: OffsiteCopy) -> str:
    """Return why an off-site object named like a backup is left out of retention."""
    return f"not usable: {copy.problem}; not counted, never deleted"


def prune(result: PruneResult, *, remote: bool = False) -> list[Line]:
    """Return each backup (``remote``: off-site copy) of one database with what happens to
    it and why, and a count."""
    lines = []
    identifier = result.database.identifier
    deleting = "would delete" if result.dry_run else "delete"
    if result.plan.verdicts:  # one block: a plan of 10,000 backups is common
        lines.append(
            block(
                f"{identifier}: {'keep  ' if verdict.keep else deleting} {verdict.name} "
                f"({reason(verdict)})"
                for verdict in result.plan.verdicts
            )
        )
    for copy in result.unusable:
        lines.append(Line(f"{identifier}: leave  {copy.name} ({unusable(copy)})"))
    deleted = "would be deleted" if result.dry_run else "deleted"
    total = len(result.plan.verdicts)
    what = "off-site copies" if remote else "backups"
    left = f"; {len(result.unusable)} unusable left alone" if result.unusable else ""
    lines.append(
        Line(f"{identifier}: {len(result.plan.to_delete)} of {total} {what} {deleted}{left}")
    )
    return lines


def reason(verdict: Verdict) -> str:
    """Return why retention keeps or deletes a backup, in words."""
    # Only the words needed: a plan of 10,000 backups is common.
    match verdict.why:
        case Why.FUTURE:
            said = "dated in the future: is the clock wrong?"
        case Why.NEWEST:
            said = f"{_age(verdict.age)} old, among the newest: always kept"
        case Why.WITHIN_PERIOD:
            said = f"{_age(verdict.age)} old, kept {_number(verdict)} days"
        case Why.PAST_PERIOD:
            said = f"{_age(verdict.age)} old, past {_number(verdict)} days"
        case Why.AMONG_ITS_COPIES:
            said = f"{_age(verdict.age)} old, among the {_number(verdict)} newest of its tier"
        case Why.PAST_ITS_COPIES:
            said = f"{_age(verdict.age)} old, past the {_number(verdict)} newest of its tier"
    return f"{verdict.name.tier.value}, {said}"


def _number(verdict: Verdict) -> int:
    rule = verdict.rule
    return rule.days if isinstance(rule, KeepFor) else rule.copies


def size(amount: int) -> str:
    """Return ``amount`` bytes in B, KiB, MiB or GiB."""
    value = float(amount)
    for unit in ("B", "KiB", "MiB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


def _age(age: timedelta) -> str:
    if age < timedelta(days=1):
        return f"{age.total_seconds() / 3600:.0f} h"
    return f"{age.total_seconds() / 86400:.1f} days"
