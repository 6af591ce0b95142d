"""``restore-from-shared``: each database's content replaced with its shared ``file.dump``,
each reported as soon as it is done."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import attrs

from pg_backup_manager.domain.errors import worst_exit_code
from pg_backup_manager.domain.model import Database
from pg_backup_manager.domain.restore.restoring import Restore, RestoreResult


@attrs.frozen(kw_only=True)
class SharedRestoreReport:
    """The results of one ``restore-from-shared``, in the order asked."""

    results: tuple[RestoreResult, ...]

    @property
    def restored(self) -> int:
        """Return how many databases were restored."""
        return sum(result.error is None for result in self.results)

    @property
    def exit_code(self) -> int:
        """Return the exit code: 0, or that of the worst failure."""
        return worst_exit_code(result.error for result in self.results)


@attrs.frozen(kw_only=True)
class RestoreFromShared:
    """Restores the shared copies of databases one after another (see
    :meth:`Restore.shared_copies`)."""

    restore: Restore

    def __call__(
        self,
        databases: Sequence[Database],
        *,
        told: Callable[[RestoreResult], None],
        owners: bool = True,
        safety_dump: bool = True,
        with_globals: bool = False,
    ) -> SharedRestoreReport:
        """Restore each of ``databases`` from its shared copy, handing each result to
        ``told`` as soon as it is done, and going on past failures; return them all.

        Raises:
            ControllerError: the one database asked for failed, as ``restore`` would
                raise it (several databases: each failure is in its result).
        """
        results = []
        for database in databases:
            [result] = self.restore.shared_copies(
                [database], owners=owners, safety_dump=safety_dump, with_globals=with_globals
            )
            if len(databases) == 1 and result.error is not None:
                raise result.error
            told(result)
            results.append(result)
        return SharedRestoreReport(results=tuple(results))
