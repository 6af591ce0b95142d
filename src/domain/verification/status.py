"""The scheduled verifications in ``status``, ``health`` and the metrics: pure rules over
the history. A failed verification is a fault until a later one of its kind passes; no
verification at all is none."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import attrs

from pg_backup_manager.domain.history import Outcome, RunRecord
from pg_backup_manager.domain.monitoring.pitr_rules import span
from pg_backup_manager.domain.verification.model import VerifySchedule, operation


@attrs.frozen(kw_only=True)
class Verified:
    """The scheduled verifications of one kind (the newest backup, or the newest off-site
    copy) as the history holds them: the last one, and the last that passed."""

    offsite: bool
    last: RunRecord | None = None
    last_success: RunRecord | None = None

    @classmethod
    def of(cls, records: Sequence[RunRecord], *, offsite: bool) -> Verified:
        """Return the verifications of the kind ``offsite`` says among ``records`` (oldest
        first)."""
        kind = operation(offsite=offsite)
        mine = [record for record in records if record.operation is kind]
        passed = [record for record in mine if record.outcome is Outcome.SUCCESS]
        return cls(
            offsite=offsite,
            last=mine[-1] if mine else None,
            last_success=passed[-1] if passed else None,
        )

    @property
    def failed(self) -> bool:
        """Return whether the last verification failed (none at all did not)."""
        return self.last is not None and self.last.outcome is Outcome.FAILURE


@attrs.frozen(kw_only=True)
class VerifyStatus:
    """What ``status`` and ``health`` say of a database's scheduled verifications at ``now``:
    of its newest backup (``local``) and, with ``VERIFY_REMOTE``, of its newest off-site
    copy (``offsite``), and when the next pass is due."""

    now: datetime
    next_run_at: datetime
    local: Verified
    offsite: Verified | None = None

    @property
    def kinds(self) -> tuple[Verified, ...]:
        """Return the kinds of verification asked for: local, then off-site."""
        return (self.local,) if self.offsite is None else (self.local, self.offsite)

    @property
    def faults(self) -> tuple[str, ...]:
        """Return, one line each, the kinds whose last verification failed."""
        return tuple(fault(kind, now=self.now) for kind in self.kinds if kind.failed)

    @property
    def healthy(self) -> bool:
        """Return whether no last verification failed."""
        return not self.faults


def fault(verified: Verified, *, now: datetime) -> str:
    """Return the fault of ``verified``, whose last verification failed, in one line."""
    last = verified.last
    assert last is not None
    what = "of the off-site copy " if verified.offsite else ""
    backup = f" ({last.backup})" if last.backup is not None else ""
    error = last.error or "(no error recorded)"
    ago = span(max(now - last.finished_at, timedelta(0)))
    return f"last scheduled verification {what}failed {ago} ago{backup}: {error}"


def verify_status(
    records: Sequence[RunRecord], *, now: datetime, asked: VerifySchedule
) -> VerifyStatus:
    """Return the status of a database's scheduled verifications from its history
    ``records`` (oldest first), as ``asked`` by ``VERIFY_SCHEDULE`` and ``VERIFY_REMOTE``."""
    return VerifyStatus(
        now=now,
        next_run_at=asked.schedule.next_after(now),
        local=Verified.of(records, offsite=False),
        offsite=Verified.of(records, offsite=True) if asked.remote else None,
    )
