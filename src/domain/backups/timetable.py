"""When each service is backed up by ``controller start``: its own schedule or the common
one, and which services a scheduled run takes. Pure: the scheduler loop acts on it.

Each service has its next time. A run takes every service whose time has come
(those due at the same minute run side by side, in one run); after it, each
service it took gets its next time after the run's end, so a run that outlasts
a service's interval skips the times of that service it covered instead of
doubling up. A service whose time came while a run of others was in progress
keeps that time: it is not skipped, but runs as soon as that run ends.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from types import MappingProxyType

import attrs

from pg_backup_manager.domain.database_names import split
from pg_backup_manager.domain.ports import Schedule


def _frozen(mapping: Mapping[str, Schedule]) -> Mapping[str, Schedule]:
    return MappingProxyType(dict(mapping))


@attrs.frozen(kw_only=True)
class Schedules:
    """The schedule of every service: its ``own`` where it has one
    (``<SERVICE>_BACKUP_SCHEDULE``), else the ``common`` one (``BACKUP_SCHEDULE``)."""

    common: Schedule
    own: Mapping[str, Schedule] = attrs.field(factory=dict, converter=_frozen)

    def of(self, identifier: str) -> Schedule:
        """Return the schedule of the service ``identifier`` (of a database of a server,
        ``<service>/<database>``: its service's)."""
        return self.own.get(split(identifier)[0], self.common)

    def has_own(self, identifier: str) -> bool:
        """Return whether the service ``identifier`` (or its service) has a schedule of its
        own."""
        return split(identifier)[0] in self.own


@attrs.frozen(kw_only=True)
class Timetable:
    """The next time of each service, in ``DATABASE_LIST`` order (see the module)."""

    schedules: Schedules
    times: Mapping[str, datetime]

    @classmethod
    def starting(
        cls, schedules: Schedules, identifiers: Iterable[str], *, now: datetime
    ) -> Timetable:
        """Return the timetable of ``identifiers``, each at its first time after ``now``."""
        return cls(
            schedules=schedules,
            times=MappingProxyType(
                {identifier: schedules.of(identifier).next_after(now) for identifier in identifiers}
            ),
        )

    @property
    def next_due(self) -> datetime:
        """Return when the next run is due: the earliest time of any service (it may be past,
        for a service whose time came during a run of others)."""
        return min(self.times.values())

    def due_by(self, moment: datetime) -> tuple[str, ...]:
        """Return the services whose time is ``moment`` or earlier, in order: what a run
        started at ``moment`` takes."""
        return tuple(identifier for identifier, due in self.times.items() if due <= moment)

    def after_run(self, ran: Iterable[str], *, now: datetime) -> Timetable:
        """Return the timetable once a run of ``ran`` ended at ``now``: each of them at its
        first time after ``now``, every other service at the time it had."""
        done = set(ran)
        return attrs.evolve(
            self,
            times=MappingProxyType(
                {
                    identifier: (
                        self.schedules.of(identifier).next_after(now) if identifier in done else due
                    )
                    for identifier, due in self.times.items()
                }
            ),
        )
