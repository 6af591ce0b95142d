"""Retention off-site: the local policy applied to the off-site copies' names, under the
lock; OFFSITE_RETENTION=false keeps every copy; the local backups are never touched."""

from __future__ import annotations

import pytest

from pg_backup_manager.domain.backups.policy import RetentionPolicy, Why
from pg_backup_manager.domain.errors import ConfigurationError
from pg_backup_manager.domain.history import Operation, Outcome
from pg_backup_manager.domain.names import BackupName
from pg_backup_manager.domain.offsite.pruning import PruneOffsite
from pg_backup_manager.domain.offsite_copies import OffsiteCopy

from .fakes import GOOD_SHA256, Companion, Fakes, database

USERS = database("users")
ORDERS = database("orders")
EXPIRED = "file_daily_2024-05-01T03:00:00Z.dump"
RECENT = "file_daily_2024-07-03T03:00:00Z.dump"
OLD_MONTHLY = "file_monthly_2024-06-01T03:00:00Z.dump"
OLDER = "file_daily_2024-04-20T03:00:00Z.dump"


def offsite_copies(fakes: Fakes, identifier: str, *names: str) -> None:
    for name in names:
        parsed = BackupName.parse(name)
        fakes.offsite.copied.setdefault(identifier, {})[parsed] = OffsiteCopy(
            name=parsed, size=10, has_globals=True, sha256=GOOD_SHA256
        )


def prune_offsite(fakes: Fakes, *, enabled: bool = True, min_kept: int = 1) -> PruneOffsite:
    return PruneOffsite(
        offsite=fakes.offsite,
        locks=fakes.locks,
        clock=fakes.clock,
        run_log=fakes.run_log,
        policy=RetentionPolicy(min_kept=min_kept),
        enabled=enabled,
    )


def test_expired_copies_are_deleted_off_site_and_the_local_backups_are_kept() -> None:
    fakes = Fakes()
    offsite_copies(fakes, "users", EXPIRED, RECENT, OLD_MONTHLY)
    fakes.store.add("users", EXPIRED)

    result = prune_offsite(fakes).one(USERS)

    assert [str(name) for name in result.plan.to_delete] == [EXPIRED]
    assert fakes.offsite.actions == [("delete", "users", EXPIRED)]
    assert fakes.store.names("users") == [EXPIRED]
    assert fakes.locks.held == ["users"]
    [record] = fakes.run_log.records("users")
    assert (record.operation, record.outcome) == (Operation.PRUNE_OFFSITE, Outcome.SUCCESS)


def test_the_newest_copy_is_kept_off_site_whatever_its_age() -> None:
    fakes = Fakes()
    offsite_copies(fakes, "users", EXPIRED)

    result = prune_offsite(fakes).one(USERS)

    assert result.plan.to_delete == ()
    assert fakes.offsite.actions == []


def test_a_dry_run_deletes_nothing_off_site() -> None:
    fakes = Fakes()
    offsite_copies(fakes, "users", EXPIRED, RECENT)

    result = prune_offsite(fakes).one(USERS, dry_run=True)

    assert [str(name) for name in result.plan.to_delete] == [EXPIRED]
    assert fakes.offsite.actions == []


def test_with_offsite_retention_off_every_copy_is_kept_and_pruning_is_refused() -> None:
    fakes = Fakes()
    offsite_copies(fakes, "users", EXPIRED, RECENT)

    with pytest.raises(ConfigurationError, match="OFFSITE_RETENTION=false"):
        prune_offsite(fakes, enabled=False).one(USERS)

    assert fakes.offsite.actions == []


def test_a_scheduled_run_prunes_off_site_only_where_every_backup_went_off_site() -> None:
    fakes = Fakes()
    offsite_copies(fakes, "users", EXPIRED)
    offsite_copies(fakes, "orders", EXPIRED)
    run = fakes.backup_run()
    fakes.offsite.fail_after = 1  # the users' upload works, the orders' fails

    report = run.scheduled((USERS, ORDERS), share=False)

    assert [u.succeeded for u in report.offsite] == [True, False]
    assert [r.database.identifier for r in report.pruned_offsite] == ["users"]
    assert ("delete", "users", EXPIRED) in fakes.offsite.actions
    assert ("delete", "orders", EXPIRED) not in fakes.offsite.actions


def test_a_stray_with_a_backup_name_never_protects_itself_at_the_cost_of_a_real_copy() -> None:
    fakes = Fakes()
    offsite_copies(fakes, "users", EXPIRED, OLDER)
    fakes.offsite.plant("users", BackupName.parse(RECENT), size=12)  # a hand copy: no checksum

    result = prune_offsite(fakes).one(USERS)

    assert fakes.offsite.actions == [("delete", "users", OLDER)]
    assert [(str(v.name), v.why) for v in result.plan.verdicts if v.keep] == [(EXPIRED, Why.NEWEST)]
    [stray] = result.unusable
    assert str(stray.name) == RECENT
    assert stray.problem is not None and "no checksum" in stray.problem


def test_only_usable_copies_count_toward_min_backups_kept() -> None:
    fakes = Fakes()
    offsite_copies(fakes, "users", EXPIRED, OLDER, "file_daily_2024-04-10T03:00:00Z.dump")
    fakes.offsite.plant("users", BackupName.parse(RECENT), size=12)
    fakes.offsite.plant("users", BackupName.parse("file_daily_2024-07-02T03:00:00Z.dump"), size=12)

    result = prune_offsite(fakes, min_kept=2).one(USERS)

    assert [str(name) for name in result.plan.to_keep] == [EXPIRED, OLDER]
    assert fakes.offsite.actions == [("delete", "users", "file_daily_2024-04-10T03:00:00Z.dump")]
    assert len(result.unusable) == 2


def test_a_copy_that_lost_its_checksum_is_neither_counted_nor_deleted() -> None:
    fakes = Fakes()
    offsite_copies(fakes, "users", EXPIRED, OLDER)
    fakes.offsite.lose("users", BackupName.parse(EXPIRED), Companion.CHECKSUM)

    result = prune_offsite(fakes).one(USERS)

    assert [str(name) for name in result.plan.to_keep] == [OLDER]
    assert result.plan.to_delete == ()
    assert fakes.offsite.actions == []
    assert [str(copy.name) for copy in result.unusable] == [EXPIRED]
