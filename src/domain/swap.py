"""The restore swap, and the recovery of what a killed restore or verify left on the server.

Both touch only temporary databases whose names are provably their own
(:class:`~pg_backup_manager.domain.scratch.ScratchNames`), and never leave an
instant where the target's name carries weaker properties than it had.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import PurePath

from pg_backup_manager.domain.errors import ControllerError
from pg_backup_manager.domain.model import Database
from pg_backup_manager.domain.ports import DatabaseServer, Restorer
from pg_backup_manager.domain.scratch import LeftoverPlan, Purpose, ScratchNames, plan_leftovers


def scratch_names(database: Database) -> ScratchNames:
    """Return the names of the temporary databases of ``database``'s service and target."""
    return ScratchNames(identifier=database.identifier, target=database.dbname)


def recover_leftovers(*, database: Database, server: DatabaseServer) -> LeftoverPlan:
    """Undo what a restore or verify killed half way (SIGKILL, a crash) left; return the plan.

    Scratch copies are dropped. If the target is missing (killed between the
    two renames of a swap), the newest database set aside is renamed back.
    Other set-aside databases are kept and returned in ``keep`` to be reported.
    Only databases whose names are exactly this service's and target's are touched.
    """
    names = scratch_names(database)
    found = server.temporary_databases(database, prefixes=[names.head(p) for p in Purpose])
    plan = plan_leftovers(
        found, names=names, target_exists=server.exists(database, database.dbname)
    )
    for name in plan.drop:
        server.drop(database, name)
    if plan.put_back is not None:
        server.rename(database, plan.put_back, database.dbname)
    return plan


def set_aside_copies(*, database: Database, server: DatabaseServer) -> list[str]:
    """Return the set-aside databases of ``database`` if its target is missing, else [].

    Read only: for a command that found its target missing, to say where its
    content is.
    """
    if server.exists(database, database.dbname):
        return []
    names = scratch_names(database)
    found = server.temporary_databases(database, prefixes=[names.head(Purpose.REPLACED)])
    plan = plan_leftovers(found, names=names, target_exists=False)
    return [plan.put_back] if plan.put_back is not None else []


def missing_target_error(database: Database, aside: str) -> ControllerError:
    """Return the error of a command that found the target gone and ``aside`` holding it."""
    return ControllerError(
        f"{database.identifier}: database '{database.dbname}' does not exist, but '{aside}' "
        "holds its content, set aside by a restore that was interrupted: "
        f"'controller verify {database.identifier} --restore' (or the next restore) puts it "
        "back, or rename it yourself"
    )


def replace_content(
    *,
    database: Database,
    archive: PurePath,
    server: DatabaseServer,
    restorer: Restorer,
    now: datetime,
    owners: bool,
) -> None:
    """Make ``database.dbname`` hold exactly the content of ``archive``.

    Only the content changes. The archive goes into a scratch database made
    like the target (encoding, locale, tablespace); once loaded, the scratch
    database gets the target's owner, privileges, settings, connection limit
    and comment, and only then is the target renamed aside and the scratch one
    renamed into its place, so the target's name never carries weaker
    properties. The old database is dropped last. Any failure before the end
    of the swap puts the old database back and drops the scratch one.
    """
    names = scratch_names(database)
    target = database.dbname
    scratch = names.name(Purpose.RESTORE, now)
    aside = names.name(Purpose.REPLACED, now)
    properties = server.properties(database, target)
    server.drop(database, scratch)
    server.create(database, scratch, like=properties, comment=names.marker(Purpose.RESTORE))
    try:
        restorer.restore(database, into=scratch, archive=archive, owners=owners)
        server.apply(database, scratch, properties)
        if properties is not None:
            server.rename(database, target, aside)
        try:
            server.rename(database, scratch, target)
        except BaseException:
            if properties is not None:
                server.rename(database, aside, target)
            raise
    except BaseException:
        server.drop(database, scratch)
        raise
    if properties is not None:
        server.drop(database, aside)
