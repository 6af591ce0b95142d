"""``list --remote``: the copies of each database in the off-site store, newest first, and
what the partial ones left out."""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from pg_backup_manager.domain.model import Database
from pg_backup_manager.domain.offsite.ports import OffsiteLister
from pg_backup_manager.domain.offsite_copies import OffsiteCopy


@attrs.frozen(kw_only=True)
class OffsiteListing:
    """The off-site copies of one database, newest first, and where they are
    (``s3://bucket/prefix/users/``)."""

    database: Database
    copies: Sequence[OffsiteCopy]
    location: str


@attrs.frozen(kw_only=True)
class OffsiteListReport:
    """What ``list --remote`` found, database by database, in the order asked."""

    listings: tuple[OffsiteListing, ...]

    @property
    def exit_code(self) -> int:
        """Return 0: a store that cannot be read raised instead."""
        return 0


@attrs.frozen(kw_only=True)
class ListOffsiteCopies:
    """Lists the off-site copies of databases."""

    offsite: OffsiteLister

    def __call__(self, databases: Sequence[Database]) -> OffsiteListReport:
        """Return the off-site copies of each of ``databases``.

        Raises:
            ControllerError: the store cannot be reached or refuses the listing.
        """
        return OffsiteListReport(
            listings=tuple(
                OffsiteListing(
                    database=database,
                    copies=self.offsite.with_left_out(
                        database.identifier, self.offsite.copies(database.identifier)
                    ),
                    location=self.offsite.location(database.identifier),
                )
                for database in databases
            )
        )
