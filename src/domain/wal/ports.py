"""What ``resetwal`` needs: ``pg_resetwal`` and what a data directory's lock file says."""

from __future__ import annotations

from pathlib import PurePath
from typing import Protocol

import attrs


@attrs.frozen(kw_only=True)
class LockFile:
    """What a data directory's ``postmaster.pid`` says about its server."""

    pid: int
    alive: bool


class WalResetter(Protocol):
    """``pg_resetwal`` for a data directory, with the binary of its major version."""

    def server_lock(self, data_dir: PurePath) -> LockFile | None:
        """Return the server lock of ``data_dir``, or None when there is none.

        Raises:
            ControllerError: ``data_dir`` is not a PostgreSQL data directory.
        """

    def preview(self, data_dir: PurePath) -> str:
        """Return what ``pg_resetwal -n`` says it would do; change nothing.

        Raises:
            ToolError: the tool failed or is missing for this major version.
        """

    def preserve(self, data_dir: PurePath, *, into: PurePath) -> PurePath:
        """Save what a reset changes: ``pg_controldata`` and ``pg_resetwal -n``
        reports, ``global/pg_control`` and ``pg_wal``, into the new folder ``into``.

        Returns ``into``.

        Raises:
            ControllerError: something could not be read or written; nothing
                was reset.
        """

    def reset(self, data_dir: PurePath, *, force: bool) -> str:
        """Run ``pg_resetwal`` (with ``-f`` if ``force``) and return its output.

        Raises:
            ToolError: the tool refused or failed; nothing was reset.
        """
