"""The variables of point-in-time recovery that apply to every service with
``<SERVICE>_WAL_ARCHIVE=true``."""

from __future__ import annotations

from typing import Any

from pg_backup_manager.adapters.configuration.variable import Variable
from pg_backup_manager.adapters.env_values import count, stripped

# Daily: a recovery replays at most a day of WAL after its base backup, and seven
# days of retention keep eight base backups. 01:00 stays clear of the dumps' default
# times (03, 09, 15, 21).
DEFAULT_BASE_BACKUP_SCHEDULE = "0 1 * * *"

BASE_BACKUP_SCHEDULE = Variable(
    name="BASE_BACKUP_SCHEDULE",
    parse=stripped,
    default=DEFAULT_BASE_BACKUP_SCHEDULE,
    help="When `controller start` takes a base backup of each service with WAL archiving "
    "on, in the syntax of `BACKUP_SCHEDULE`. Daily by default: a recovery then replays at "
    "most a day of WAL. A stream without a usable base backup gets one at once.",
)
PITR_RETENTION_DAYS = Variable(
    name="PITR_RETENTION_DAYS",
    parse=count,
    default="7",
    help="How many days back a service with WAL archiving on can be recovered to (1 to "
    "10000): `prune` and each scheduled base backup delete the base backups and WAL not "
    "needed for it. The newest base backup is always kept.",
)
# In the order `controller config` prints them.
VARIABLES: tuple[Variable[Any], ...] = (BASE_BACKUP_SCHEDULE, PITR_RETENTION_DAYS)
