"""What the operator reads of the off-site commands (``sync``, ``list --remote``): their
reports as text, on stdout, errors on stderr."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

from pg_backup_manager.entrypoints.render import completed, error, one_line, size

if TYPE_CHECKING:  # each command imports only the use cases it runs
    from pg_backup_manager.domain.names import OffsiteCopy
    from pg_backup_manager.domain.offsite.sync import SyncReport


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
