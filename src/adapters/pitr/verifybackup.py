"""``pg_verifybackup`` of the backup's own major version: the manifest, every file's
size and checksum, and its WAL parsed by the ``pg_waldump`` beside it (which reads
only its own major's WAL)."""

from __future__ import annotations

from pathlib import PurePath

import attrs

from pg_backup_manager.adapters import processes
from pg_backup_manager.adapters.postgres.pg_binaries import PgBinaries
from pg_backup_manager.domain.errors import IntegrityError, ToolError


@attrs.frozen(kw_only=True)
class PgVerifyBackup:
    """Runs ``<PG_BIN_ROOT>/<major>/bin/pg_verifybackup``; ``timeout`` bounds it."""

    binaries: PgBinaries
    timeout: float

    def verify(self, directory: PurePath, server_major: int) -> None:
        """Check the plain base backup in ``directory``.

        Raises:
            IntegrityError: it failed the check (the message ends with what the
                tool found); the backup must not count.
            ToolError: that major's pg_verifybackup is missing, or it ran out of time.
        """
        program = self.binaries.for_major(str(server_major), "pg_verifybackup")
        what = f"pg_verifybackup of {directory}"
        try:
            processes.run(program, ["--quiet", str(directory)], what=what, timeout=self.timeout)
        except ToolError as error:
            if " failed (exit " not in str(error):  # not run to its end: no verdict
                raise
            raise IntegrityError(f"base backup failed its check: {error}") from None
