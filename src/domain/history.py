"""What happened to each database, operation by operation: the run history."""

from __future__ import annotations

import enum
from datetime import datetime

import attrs


class Operation(enum.Enum):
    """The operations that leave a record."""

    SCHEDULED = "scheduled"
    DUMP = "dump"
    RESTORE = "restore"
    RESTORE_FROM_SHARED = "restore-from-shared"
    VERIFY = "verify"
    PRUNE = "prune"
    SYNC = "sync"
    PRUNE_OFFSITE = "prune-offsite"
    WAL_RECEIVER = "wal-receiver"
    RECOVER = "recover"
    VERIFY_PITR = "verify-pitr"
    BASEBACKUP = "basebackup"
    PRUNE_PITR = "prune-pitr"
    # Restore tests on VERIFY_SCHEDULE: of the newest backup, of the newest off-site copy.
    VERIFY_SCHEDULED = "verify-scheduled"
    VERIFY_SCHEDULED_REMOTE = "verify-scheduled-remote"


class Outcome(enum.Enum):
    """How an operation ended."""

    SUCCESS = "success"
    FAILURE = "failure"


# The operations that make backups: what "runs" of a database count.
BACKUP_OPERATIONS = frozenset({Operation.SCHEDULED, Operation.DUMP})


@attrs.frozen(kw_only=True)
class RunRecord:
    """One operation on one database: when, how it ended, its backup or its error.

    A ``sync`` also says which local backups it left not off-site (its
    ``not_offsite``: none after a success; None when it could not tell, as
    when the database's lock was busy), and which it confirmed off-site (its
    ``confirmed_offsite``: the name and SHA-256 of each; None in other records, and
    in those written before syncs said it), and which it found in the store but
    not as a restore needs them and could not complete (its ``unusable_offsite``:
    a copy that lost its checksum, or whose checksum object disagrees). A dump that made
    a partial backup, and a restore of one, say so (``partial``, ``left_out``).
    """

    operation: Operation
    started_at: datetime
    finished_at: datetime
    outcome: Outcome
    backup: str | None = None
    size_bytes: int | None = None
    sha256: str | None = None
    error: str | None = None
    pg_dump_version: str | None = None
    server_version: str | None = None
    not_offsite: tuple[str, ...] | None = None
    confirmed_offsite: tuple[tuple[str, str], ...] | None = None
    unusable_offsite: tuple[str, ...] | None = None
    # What happened besides success or failure: "receiver started", "new stream ...".
    note: str | None = None
    # The backup made (a dump) or restored was partial: the pg_dump arguments that left
    # something out of it (empty: they could not be read).
    partial: bool = False
    left_out: tuple[str, ...] = ()
