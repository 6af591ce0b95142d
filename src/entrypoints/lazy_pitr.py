"""The point-in-time recovery adapters and use cases the container builds, each
imported only when it is first built (see :mod:`pg_backup_manager.entrypoints.lazy`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pg_backup_manager.entrypoints.lazy import Deferred

if TYPE_CHECKING:
    from pg_backup_manager.adapters.pitr import (
        base_staging,
        basebackup,
        pitr_lock,
        streams,
        verifybackup,
    )
    from pg_backup_manager.domain.pitr import basebackup as taking
    from pg_backup_manager.domain.pitr import listing


@Deferred
def LocalPitrStore() -> type[streams.LocalPitrStore]:
    from pg_backup_manager.adapters.pitr.streams import LocalPitrStore

    return LocalPitrStore


@Deferred
def LocalBaseStaging() -> type[base_staging.LocalBaseStaging]:
    from pg_backup_manager.adapters.pitr.base_staging import LocalBaseStaging

    return LocalBaseStaging


@Deferred
def PitrLocks() -> type[pitr_lock.PitrLocks]:
    from pg_backup_manager.adapters.pitr.pitr_lock import PitrLocks

    return PitrLocks


@Deferred
def PgBaseBackup() -> type[basebackup.PgBaseBackup]:
    from pg_backup_manager.adapters.pitr.basebackup import PgBaseBackup

    return PgBaseBackup


@Deferred
def PgVerifyBackup() -> type[verifybackup.PgVerifyBackup]:
    from pg_backup_manager.adapters.pitr.verifybackup import PgVerifyBackup

    return PgVerifyBackup


@Deferred
def TakeBaseBackups() -> type[taking.TakeBaseBackups]:
    from pg_backup_manager.domain.pitr.basebackup import TakeBaseBackups

    return TakeBaseBackups


@Deferred
def ListPitr() -> type[listing.ListPitr]:
    from pg_backup_manager.domain.pitr.listing import ListPitr

    return ListPitr
