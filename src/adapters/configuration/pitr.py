"""The variables of point-in-time recovery that apply to every service with
``<SERVICE>_WAL_ARCHIVE=true``."""

from __future__ import annotations

from typing import Any

from pg_backup_manager.adapters.configuration.variable import Variable
from pg_backup_manager.adapters.env_values import byte_size, count, seconds, single_line

# Daily: a recovery replays at most a day of WAL after its base backup, and seven
# days of retention keep eight base backups. 01:00 stays clear of the dumps' default
# times (03, 09, 15, 21).
DEFAULT_BASE_BACKUP_SCHEDULE = "0 1 * * *"

BASE_BACKUP_SCHEDULE = Variable(
    name="BASE_BACKUP_SCHEDULE",
    parse=single_line,
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
# Five minutes: a receiver restarted by its supervisor (backoff up to 60 s) or a server
# restarted for an upgrade is back well within it, so it alerts on no routine hiccup,
# and it is a small part of the hour or more of WAL a slot holds before it matters.
DEFAULT_WAL_MAX_DELAY = 300
WAL_MAX_DELAY = Variable(
    name="WAL_MAX_DELAY",
    parse=seconds(minimum=1, maximum=7 * 86400),
    default=str(DEFAULT_WAL_MAX_DELAY),
    help="Seconds (1 to 604800) a WAL receiver may be down before `health` says so and the "
    "dead-man's switch hears `/fail`; also how long `controller start` may run before a "
    "receiver that never reported counts as missing. 5 minutes by default: longer than a "
    "restart with backoff or a server's restart, shorter than anything that fills a disk.",
)
# 1 GiB: a receiver that keeps up holds under one segment (16 MiB), so this is only
# reached when WAL piles up (a receiver down for minutes to hours of writes); far
# below the max_slot_wal_keep_size the README recommends (10GB), so the alert comes
# before the server invalidates the slot, and below what a server's disk notices.
DEFAULT_WAL_SLOT_ALERT_SIZE = "1GB"
WAL_SLOT_ALERT_SIZE = Variable(
    name="WAL_SLOT_ALERT_SIZE",
    parse=byte_size(minimum=1 << 20, maximum=1 << 50),
    default=DEFAULT_WAL_SLOT_ALERT_SIZE,
    help="How much WAL a service's replication slot may hold on its server before `health` "
    "says so and one notification is sent: bytes, or a number with `kB`, `MB`, `GB` or `TB` "
    "(1024-based, as PostgreSQL's), from 1MB to 1024TB. A slot whose `wal_status` is "
    "`unreserved` or `lost` is at fault whatever it holds. Keep it well under the server's "
    "`max_slot_wal_keep_size`.",
)
# In the order `controller config` prints them.
VARIABLES: tuple[Variable[Any], ...] = (
    BASE_BACKUP_SCHEDULE,
    PITR_RETENTION_DAYS,
    WAL_MAX_DELAY,
    WAL_SLOT_ALERT_SIZE,
)
