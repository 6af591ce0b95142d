"""Temporary databases a restore or verify makes, named so that their owner is provable.

A restore loads a scratch database and sets the old one aside; ``verify
--restore`` loads a scratch database too. Their names carry a tag, a hash of
the service and the target database, so that two services on one server
(whatever the length of their names) never share a name, and the clean-up of
what a killed run left touches only names that are exactly its own. A scratch
database also carries :meth:`ScratchNames.marker` as its comment while it loads.
"""

from __future__ import annotations

import enum
import hashlib
import re
from collections.abc import Iterable
from datetime import datetime

import attrs

_MAX_NAME_BYTES = 63
_TAG_LENGTH = 12
_STAMP_FORMAT = "%Y%m%d%H%M%S"
MARKER_PREFIX = "pg-backup-manager scratch database"


class Purpose(enum.Enum):
    """Why a temporary database exists."""

    RESTORE = "restore"  # a restore loads the archive here, then swaps it in
    VERIFY = "verify"  # verify --restore loads the archive here, counts rows, drops it
    REPLACED = "replaced"  # the old content, set aside during a restore's swap


@attrs.frozen(kw_only=True)
class ScratchNames:
    """The names of the temporary databases of one service's target database."""

    identifier: str
    target: str

    @property
    def tag(self) -> str:
        """Return the hash that makes the names of this service and target unique."""
        owner = f"{self.identifier}\0{self.target}".encode()
        return hashlib.sha256(owner).hexdigest()[:_TAG_LENGTH]

    def name(self, purpose: Purpose, at: datetime) -> str:
        """Return the name of a temporary database made at ``at``, at most 63 bytes."""
        return f"{self.head(purpose)}{at:{_STAMP_FORMAT}}"

    def head(self, purpose: Purpose) -> str:
        """Return what every name of ``purpose`` starts with (the target, cut to fit)."""
        suffix = f"_{purpose.value}_{self.tag}_"
        room = _MAX_NAME_BYTES - len(suffix) - len(f"{datetime(2000, 1, 1):{_STAMP_FORMAT}}")
        return self.target.encode()[:room].decode(errors="ignore") + suffix

    def purpose_of(self, name: str) -> Purpose | None:
        """Return the purpose of ``name`` if it is exactly one of these names, else None."""
        for purpose in Purpose:
            stamp = name.removeprefix(self.head(purpose))
            if stamp != name and re.fullmatch(r"\d{14}", stamp):
                return purpose
        return None

    def marker(self, purpose: Purpose) -> str:
        """Return the comment a scratch database carries while it is the controller's."""
        return (
            f"{MARKER_PREFIX}: {purpose.value} of {self.target!r} for service "
            f"{self.identifier!r}; dropped by the next restore or verify of that service"
        )


@attrs.frozen(kw_only=True)
class TemporaryDatabase:
    """A database on the server whose name may be one of the controller's, with its comment."""

    name: str
    comment: str | None = None


@attrs.frozen(kw_only=True)
class LeftoverPlan:
    """What to do with the temporary databases a killed run left, and why.

    ``drop``: scratch copies, which only ever held a load in progress.
    ``put_back``: the newest set-aside database, when the target is missing
    (a run killed between the two renames of a swap). ``keep``: set-aside
    databases that hold replaced content while the target exists: reported,
    never dropped.
    """

    drop: tuple[str, ...] = ()
    put_back: str | None = None
    keep: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        """Return whether nothing was left behind."""
        return not (self.drop or self.put_back or self.keep)


def plan_leftovers(
    found: Iterable[TemporaryDatabase], *, names: ScratchNames, target_exists: bool
) -> LeftoverPlan:
    """Return what to do with ``found``: only names exactly ``names``' own are in the plan.

    A database whose comment is a controller marker for another owner is never
    taken, even if its name matches (it cannot be ours: the tags differ).
    """
    drop: list[str] = []
    asides: list[str] = []
    for database in found:
        purpose = names.purpose_of(database.name)
        if purpose is None or _marked_for_another(database, names):
            continue
        (asides if purpose is Purpose.REPLACED else drop).append(database.name)
    asides.sort()
    put_back = asides.pop() if asides and not target_exists else None
    return LeftoverPlan(drop=tuple(sorted(drop)), put_back=put_back, keep=tuple(asides))


def _marked_for_another(database: TemporaryDatabase, names: ScratchNames) -> bool:
    comment = database.comment or ""
    if not comment.startswith(MARKER_PREFIX):
        return False
    return comment not in {names.marker(purpose) for purpose in Purpose}
