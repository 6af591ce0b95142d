"""Which failures on a full device are "no space left": only those about space."""

from __future__ import annotations

import pytest

from pg_backup_manager.adapters.storage.space import about_space
from pg_backup_manager.domain.errors import ControllerError, IntegrityError, ToolError

PG_DUMP = "pg_dump of a (127.0.0.1:55432) failed (exit 1): "


@pytest.mark.parametrize(
    "error",
    [
        ToolError(
            PG_DUMP + "pg_dump: error: could not write to output file: No space left on device"
        ),
        ToolError(PG_DUMP + "pg_dump: error: could not write to output file: Success"),
        ToolError(PG_DUMP + "pg_dump: error: could not close TOC file: Disk quota exceeded"),
        ToolError("pg_dumpall --globals-only of a failed (exit 1): could not write to file x"),
        IntegrityError(
            "/b/.x.partial/x.dump is damaged: pg_restore cannot read it "
            "(pg_restore: error: could not read input file: end of file)"
        ),
        ControllerError("cannot write in /b: No space left on device"),
    ],
)
def test_failures_to_write_or_to_read_back_what_was_written_are_about_space(
    error: ControllerError,
) -> None:
    assert about_space(error)


@pytest.mark.parametrize(
    "error",
    [
        ToolError(
            PG_DUMP + 'pg_dump: error: connection to server at "127.0.0.1", port 55432 failed: '
            'FATAL:  password authentication failed for user "postgres" '
            "(check A_POSTGRES_USER and A_POSTGRES_PASSWORD)"
        ),
        ToolError(PG_DUMP + 'pg_dump: error: could not translate host name "nowhere"'),
        ToolError(PG_DUMP + "pg_dump: error: server version: 17.2; pg_dump version: 15.10"),
        ToolError("pg_dump of a: gave up after 60 s"),
        ControllerError("/b can be written by other users (mode 0777)"),
    ],
)
def test_failures_of_the_server_or_the_connection_are_not_about_space(
    error: ControllerError,
) -> None:
    assert not about_space(error)
