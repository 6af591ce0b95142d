"""Restore tests on a schedule: what is asked (``VERIFY_SCHEDULE``, ``VERIFY_REMOTE``), the
operation each leaves in the history, and what one of them found."""

from __future__ import annotations

import enum

import attrs

from pg_backup_manager.domain.history import Operation
from pg_backup_manager.domain.model import Database
from pg_backup_manager.domain.names import BackupName
from pg_backup_manager.domain.ports import Schedule

# The note of a verification that passed after one of its kind failed: it is notified
# whatever NOTIFY_ON says, as the end of the failure people were told of.
PASSED_AGAIN = "passed after a failed verification"


@attrs.frozen(kw_only=True)
class VerifySchedule:
    """``VERIFY_SCHEDULE`` and ``VERIFY_REMOTE``: when the newest backup of each database is
    restored into a scratch database and its rows counted, and whether its newest off-site
    copy is too."""

    schedule: Schedule
    remote: bool = False


def operation(*, offsite: bool) -> Operation:
    """Return the operation a scheduled verification records: of the newest backup, or
    (``offsite``) of the newest off-site copy."""
    return Operation.VERIFY_SCHEDULED_REMOTE if offsite else Operation.VERIFY_SCHEDULED


class Found(enum.Enum):
    """What a scheduled verification found."""

    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"  # nothing to verify: no backup (or usable off-site copy) yet


@attrs.frozen(kw_only=True)
class Verification:
    """What one scheduled verification of ``database`` found: of its newest backup, or with
    ``offsite`` of its newest usable off-site copy. ``backup`` is the one verified (None:
    there was none, or it could not be looked for); ``problem`` why it failed, or was
    skipped; ``tables`` how many tables' rows were counted (passed)."""

    database: Database
    offsite: bool
    found: Found
    backup: BackupName | None = None
    problem: str | None = None
    tables: int | None = None
