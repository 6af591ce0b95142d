"""The variables of where backups live, when runs happen and how the tools run."""

from __future__ import annotations

from typing import Any

from pg_backup_manager.adapters.configuration import monitoring, services
from pg_backup_manager.adapters.configuration.variable import Variable
from pg_backup_manager.adapters.cron import DEFAULT_SCHEDULE
from pg_backup_manager.adapters.env_values import (
    COMPRESSION_LEVELS,
    MAX_SECONDS,
    bin_dir,
    boolean,
    compression,
    count,
    optional,
    path,
    seconds,
    single_line,
    stripped,
)
from pg_backup_manager.adapters.privileges import DEFAULT_USER

UTC = "UTC"


def production(text: str, variable: str) -> bool:
    """Return whether ``text`` is ``production`` (any case); anything else is not."""
    return text.strip().lower() == "production"


def time_zone(text: str, variable: str) -> str:
    """Return time zone ``text`` without the ``:`` POSIX allows before a name."""
    return text.strip().removeprefix(":") or UTC


def _levels() -> str:
    said = [f"`{method}` ({low} to {high})" for method, (low, high) in COMPRESSION_LEVELS.items()]
    return ", ".join(reversed(said[1:])) + f" or {said[0]}"  # zstd first: the default


MODE = Variable(
    name="MODE",
    parse=production,
    help="`production`: use the `/var/lib/postgresql/...` paths and run scheduled dumps.",
)
SERVER = Variable(
    name="SERVER",
    parse=production,
    help="`production`: create the shared directories at start-up.",
)
COPING_TO_SHARED = Variable(
    name="COPING_TO_SHARED",
    parse=boolean,
    default="false",
    help="`true`: scheduled dumps are also copied to the shared directory.",
)
COPYING_TO_SHARED = Variable(
    name="COPYING_TO_SHARED",
    parse=boolean,
    default="false",
    help="The correct spelling of `COPING_TO_SHARED` (the product's README spells it so); "
    "when both are set, `COPING_TO_SHARED` counts.",
)
TZ = Variable(
    name="TZ",
    parse=time_zone,
    default=UTC,
    help="Time zone of the schedule and of the tier choice (an IANA name such as `Europe/Berlin`).",
)
BACKUP_SCHEDULE = Variable(
    name="BACKUP_SCHEDULE",
    parse=single_line,
    default=DEFAULT_SCHEDULE,
    help="When scheduled dumps run: a 5-field cron expression in `TZ`, or `@hourly`, "
    "`@daily`, `@weekly`, `@monthly`, `@yearly`. A service with `<SERVICE>_BACKUP_SCHEDULE` "
    "follows its own instead.",
)
BACKUP_TIMEOUT = Variable(
    name="BACKUP_TIMEOUT",
    parse=seconds(minimum=1),
    default=f"{6 * 3600}",
    help="Seconds a single `pg_dump` or `pg_restore` may run before it is stopped: 1 to "
    f"{MAX_SECONDS:.0f} (7 days).",
)
PG_BIN_DIR = Variable(
    name="PG_BIN_DIR",
    parse=bin_dir,
    unset="newest `/usr/lib/postgresql/*/bin`, else `PATH`",
    help="Where `pg_dump`, `pg_dumpall`, `pg_restore` and `psql` are taken from; checked at "
    "start (all four must be there).",
)
PG_BIN_ROOT = Variable(
    name="PG_BIN_ROOT",
    parse=path,
    default="/usr/lib/postgresql",
    help="`resetwal` runs `<PG_BIN_ROOT>/<major>/bin/pg_resetwal` for the data directory's "
    "major version.",
)
HEARTBEAT_FILE = Variable(
    name="HEARTBEAT_FILE",
    parse=optional(path),
    unset="`<backups>/.heartbeat` (`/var/lib/postgresql/backup/data/.heartbeat` in production)",
    help="File the scheduler touches to show it is alive, and where it records the run it "
    "waits for or runs (`controller health`). Put it where only the controller's user can "
    "write: `health` ignores a file that user does not own.",
)
BACKUP_PARALLELISM = Variable(
    name="BACKUP_PARALLELISM",
    parse=count,
    default="2",
    help="How many databases `dump --all` and scheduled runs dump at once (1 to 10000).",
)
MIN_BACKUPS_KEPT = Variable(
    name="MIN_BACKUPS_KEPT",
    parse=count,
    default="1",
    help="Retention always keeps this many newest backups of each database, whatever their "
    "age (1 to 10000).",
)
LOCK_TIMEOUT = Variable(
    name="LOCK_TIMEOUT",
    parse=seconds(minimum=0),
    default="30",
    help="Seconds a command waits for another operation on the same database before it "
    f"exits 4 (busy): 0 to {MAX_SECONDS:.0f}.",
)
BACKUP_GROUP_READABLE = Variable(
    name="BACKUP_GROUP_READABLE",
    parse=boolean,
    default="false",
    help="`true`: backup files are created mode 0640 instead of 0600.",
)
CONTROLLER_USER = Variable(
    name="CONTROLLER_USER",
    parse=stripped,
    default=DEFAULT_USER,
    help="The user the controller becomes when started as root (it never runs as root; "
    "`/controller` in the image too).",
)
BACKUP_COMPRESSION = Variable(
    name="BACKUP_COMPRESSION",
    parse=compression,
    unset="`zstd:1` with client tools 16 or newer (the image's), else gzip",
    help="Passed to `pg_dump --compress`: a method with an optional `:level` in its range, "
    f"{_levels()}, or `none`, or a bare gzip level `0`-`9` (`0`: none). A level out of its "
    "method's range, a level on `none`, and pg_dump's other details (`zstd:long`, "
    "`zstd:level=3`) are a configuration error (exit 2) at start. `zstd` and `lz4` need "
    "tools 16 or newer: with older ones they are a configuration error (exit 2) naming the "
    "version. Backups of any compression keep restoring.",
)
RESTORE_JOBS = Variable(
    name="RESTORE_JOBS",
    parse=optional(count),
    unset="the number of CPUs, at most 4",
    help="`pg_restore --jobs` for restores into servers as new as the tools (into older ones "
    "the archive goes in one stream).",
)
# In the order `controller config` prints them.
VARIABLES: tuple[Variable[Any], ...] = (
    services.DATABASE_LIST,
    MODE,
    SERVER,
    COPING_TO_SHARED,
    COPYING_TO_SHARED,
    TZ,
    BACKUP_SCHEDULE,
    BACKUP_TIMEOUT,
    monitoring.BACKUP_MAX_AGE,
    monitoring.BACKUP_ON_START,
    PG_BIN_DIR,
    PG_BIN_ROOT,
    HEARTBEAT_FILE,
    BACKUP_PARALLELISM,
    MIN_BACKUPS_KEPT,
    LOCK_TIMEOUT,
    BACKUP_GROUP_READABLE,
    CONTROLLER_USER,
    BACKUP_COMPRESSION,
    RESTORE_JOBS,
)
