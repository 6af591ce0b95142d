"""What the operator reads of the off-site commands (``sync``, ``list --remote``): their
reports as lines (see :class:`~pg_backup_manager.entrypoints.rendering.backups.Line`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pg_backup_manager.entrypoints.rendering.backups import (
    Line,
    block,
    completed,
    error,
    one_line,
    partial,
    size,
)

if TYPE_CHECKING:  # each command imports only the use cases it runs
    from pg_backup_manager.domain.offsite.listing import OffsiteListing
    from pg_backup_manager.domain.offsite.sync import SyncReport


def offsite_copies(listing: OffsiteListing, *, titled: bool = False) -> Line:
    """Return the off-site copies of one database as a table, newest first, under
    ``<database>:`` when ``titled`` (one of several)."""
    identifier, found = listing.database.identifier, listing.copies
    if not found:
        return Line(f"no off-site copies of {identifier} in {listing.location}")
    width = max(len(str(copy.name)) for copy in found)
    lines = [f"{identifier}:"] if titled else []
    lines.append(f"{'NAME':<{width}}  {'TIER':<7}  {'TAKEN (UTC)':<19}  {'SIZE':<10}  GLOBALS")
    for copy in found:
        taken = copy.name.taken_at.isoformat(sep=" ")[:19]
        kept = copy.name.globals_name if copy.has_globals else "-"
        left_out = f"  {partial(copy)}" if copy.partial else ""
        unusable = "" if copy.problem is None else f"  UNUSABLE: {copy.problem}"
        lines.append(
            f"{copy.name!s:<{width}}  {copy.name.tier.value:<7}  {taken:<19}  "
            f"{size(copy.size):<10}  {kept}{left_out}{unusable}"
        )
    return block(lines)


def sync(report: SyncReport) -> list[Line]:
    """Return each copy uploaded, then per database what is off-site, or why not."""
    lines = []
    for result in report.results:
        identifier = result.database.identifier
        for copy in result.uploaded:
            lines.append(Line(f"{identifier}: uploaded {copy.name} ({size(copy.size)})"))
        for copy in result.completed:
            lines.append(Line(f"{identifier}: {completed(copy)}"))
        if result.error is None:
            done = f"{len(result.completed)} completed, " if result.completed else ""
            lines.append(
                Line(
                    f"{identifier}: {len(result.uploaded)} uploaded, {done}"
                    f"{result.already_offsite} already off-site"
                )
            )
            continue
        kept = (
            f"; {len(result.missing)} backup(s) not off-site, kept locally"
            if result.missing
            else ""
        )
        lines.append(error(f"{identifier}: {one_line(result.error)}{kept}"))
    return lines
