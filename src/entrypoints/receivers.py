"""``controller start``'s WAL receivers: one thread per service with
``<SERVICE>_WAL_ARCHIVE=true``, each running its supervisor beside the scheduled dumps."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pg_backup_manager.domain.model import Database
    from pg_backup_manager.domain.pitr.receiving import Supervisor

log = logging.getLogger("controller")

# A supervisor that fails in a way it does not know (a bug) starts again this much later.
_AFTER_A_CRASH_S = 60.0
# At a stop, each receiver has this long to flush its partial segment and end.
_STOP_WAIT_S = 15.0


@contextlib.contextmanager
def receiving(databases: Sequence[Database], supervisor: Supervisor | None) -> Iterator[None]:
    """Keep the WAL of each of ``databases`` received for the block (none: no supervisor)."""
    stop = threading.Event()
    threads = [
        threading.Thread(
            target=_supervise,
            args=(supervisor, database, stop),
            name=f"wal-receiver-{database.identifier}",
            daemon=True,
        )
        for database in databases
        if supervisor is not None
    ]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        stop.set()
        for thread in threads:
            thread.join(_STOP_WAIT_S)


def _supervise(supervisor: Supervisor, database: Database, stop: threading.Event) -> None:
    log.info("%s: WAL archiving on: starting its receiver", database.identifier)
    while not stop.is_set():
        try:
            supervisor.run(database, stopping=stop.is_set)
        except Exception:
            log.exception(
                "%s: the WAL receiver's supervisor failed unexpectedly; it starts again in %.0f s",
                database.identifier,
                _AFTER_A_CRASH_S,
            )
            stop.wait(_AFTER_A_CRASH_S)
