"""``verify`` of several databases, local or off-site: each database's verdicts reported as
soon as they are known, and one exit code for all of them."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import attrs

from pg_backup_manager.domain.errors import IntegrityError
from pg_backup_manager.domain.model import Database
from pg_backup_manager.domain.restore.verifying import VerifyReport


@attrs.frozen(kw_only=True)
class VerifySummary:
    """The verdicts of one ``verify``, database after database."""

    reports: tuple[VerifyReport, ...]

    @property
    def failed(self) -> int:
        """Return how many backups failed their checks."""
        return sum(not check.passed for report in self.reports for check in report.checks)

    @property
    def error(self) -> str | None:
        """Return the one-line error of a verify that found a backup at fault (None: none)."""
        if not self.failed:
            return None
        return f"{self.failed} backup(s) failed verification: see the lines above"

    @property
    def exit_code(self) -> int:
        """Return 0, or the exit code of an integrity failure when a backup failed."""
        return IntegrityError.exit_code if self.failed else 0


def verify_each(
    databases: Sequence[Database],
    *,
    verify: Callable[[Database], Sequence[VerifyReport]],
    told: Callable[[Sequence[VerifyReport]], None],
) -> VerifySummary:
    """Verify each of ``databases`` with ``verify`` (the local backups, or the off-site
    copies), handing its reports to ``told`` as soon as they are known; return them all.

    Raises:
        ControllerError: as ``verify`` raises it (no backup named, the server or the
            store failed): what was told before stands.
    """
    reports: list[VerifyReport] = []
    for database in databases:
        found = verify(database)
        told(found)
        reports.extend(found)
    return VerifySummary(reports=tuple(reports))
