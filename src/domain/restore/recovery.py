"""Mending what a killed restore or verify left on the server, and saying where it is.

Only temporary databases whose names are provably this service's and target's
(:class:`~pg_backup_manager.domain.restore.scratch.ScratchNames`) are ever touched.
"""

from __future__ import annotations

from pg_backup_manager.domain.errors import ControllerError
from pg_backup_manager.domain.model import Database
from pg_backup_manager.domain.restore.ports import ServerDatabases
from pg_backup_manager.domain.restore.scratch import (
    LeftoverPlan,
    Purpose,
    ScratchNames,
    plan_leftovers,
)


def scratch_names(database: Database) -> ScratchNames:
    """Return the names of the temporary databases of ``database``'s service and target."""
    return ScratchNames(identifier=database.identifier, target=database.dbname)


def find_leftovers(*, database: Database, server: ServerDatabases) -> LeftoverPlan:
    """Return what a killed restore or verify of ``database`` left, and what to do with it."""
    names = scratch_names(database)
    found = server.temporary_databases(database, prefixes=[names.head(p) for p in Purpose])
    exists = server.exists(database, database.dbname)
    return plan_leftovers(found, names=names, target_exists=exists)


def recover_leftovers(*, database: Database, server: ServerDatabases) -> LeftoverPlan:
    """Carry out :func:`find_leftovers`' plan; return it (its ``keep`` is to be reported).

    Scratch copies are dropped; if the target is missing (killed between the
    two renames of a swap), the newest database set aside is renamed back.
    """
    plan = find_leftovers(database=database, server=server)
    for name in plan.drop:
        server.drop(database, name)
    if plan.put_back is not None:
        server.rename(database, plan.put_back, database.dbname)
    return plan


def explain_a_missing_target(*, database: Database, server: ServerDatabases) -> None:
    """Raise the error that says where the target's content is, if a killed restore set
    it aside; return quietly otherwise (the target exists, or the server is unreachable).
    """
    try:
        plan = find_leftovers(database=database, server=server)
    except ControllerError:
        return  # the server cannot be reached: the caller's own error says so
    if plan.put_back is not None:
        raise ControllerError(
            f"{database.identifier}: database '{database.dbname}' does not exist, but "
            f"'{plan.put_back}' holds its content, set aside by a restore that was "
            f"interrupted: 'controller verify {database.identifier} --restore' (or the "
            "next restore) puts it back, or rename it yourself"
        )
