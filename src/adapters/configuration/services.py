"""The variables of each database service of ``DATABASE_LIST``: one family, declared
once, named ``<SERVICE>_...`` with the service's :func:`env_prefix`."""

from __future__ import annotations

from typing import Any

from pg_backup_manager.adapters.configuration.dump_args import dump_args, patterns
from pg_backup_manager.adapters.configuration.monitoring import MAX_AGE_SECONDS, ping_url
from pg_backup_manager.adapters.configuration.variable import Shown, Variable, env_prefix
from pg_backup_manager.adapters.env_values import (
    boolean,
    optional,
    port,
    seconds,
    single_line,
    stripped,
)
from pg_backup_manager.domain.database_names import check_database_name
from pg_backup_manager.domain.errors import ConfigurationError
from pg_backup_manager.domain.model import check_identifier

# <SERVICE>_POSTGRES_DB's value for every database of the server.
EVERY_DATABASE = "*"


def identifiers(text: str, variable: str) -> tuple[str, ...]:
    """Return the service identifiers of ``text``, separated by commas.

    Raises:
        ConfigurationError: there is none, one is not an identifier, or two share
            their variables (``my-db`` and ``MY_DB``).
    """
    found = tuple(item.strip() for item in text.split(",") if item.strip())
    if not found:
        raise ConfigurationError(
            f"{variable} is empty: set it to the comma-separated names of the database "
            f"services to back up, e.g. {variable}=users,orders"
        )
    by_prefix: dict[str, str] = {}
    for identifier in found:
        prefix = env_prefix(check_identifier(identifier))
        if prefix in by_prefix:
            raise ConfigurationError(
                f"{variable} names '{by_prefix[prefix]}' and '{identifier}', which share "
                f"the variables {prefix}_POSTGRES_*: list each service once"
            )
        by_prefix[prefix] = identifier
    return found


def database_names(text: str, variable: str) -> frozenset[str]:
    """Return the database names of ``text``, separated by commas (none: empty).

    Raises:
        ConfigurationError: one cannot name a database; the message names ``variable``.
    """
    names = (item.strip() for item in text.split(","))
    return frozenset(check_database_name(name, where=f" in {variable}") for name in names if name)


DATABASE_LIST = Variable(
    name="DATABASE_LIST",
    parse=identifiers,
    unset="(required)",
    help="Comma-separated service identifiers, e.g. `users,orders` (spaces are ignored). "
    "Letters, digits, `-` and `_` only.",
)
HOST = Variable(
    name="<SERVICE>_POSTGRES_HOST",
    parse=optional(stripped),
    unset="the identifier",
    help="Host name of the database server.",
)
PORT = Variable(name="<SERVICE>_POSTGRES_PORT", parse=port, default="5432", help="Its port.")
USER = Variable(
    name="<SERVICE>_POSTGRES_USER",
    parse=stripped,
    default="postgres",
    help="User for dumps and restores (restores need `CREATEDB`).",
)
PASSWORD = Variable(
    name="<SERVICE>_POSTGRES_PASSWORD",
    parse=lambda text, variable: text,
    default="postgres",
    shown=Shown.SECRET,
    from_file=True,
    help="Its password, passed to the tools in their environment, never on a command line. "
    "`_FILE`: a file holding it (Docker secrets); setting both is a configuration error, "
    "as for every `_FILE` variable.",
)
DB = Variable(
    name="<SERVICE>_POSTGRES_DB",
    parse=stripped,
    default="postgres",
    help="The database that is dumped and that a restore replaces. `*`: every database of "
    "the server that accepts connections, templates aside, each backed up as its own "
    "database `<service>/<database>`, listed again at each run (see "
    "[Every database of a server](#every-database-of-a-server)).",
)
EXCLUDE_DATABASES = Variable(
    name="<SERVICE>_EXCLUDE_DATABASES",
    parse=database_names,
    help="With `<SERVICE>_POSTGRES_DB=*` only: comma-separated exact names of databases "
    "never backed up, e.g. `postgres,scratch` (spaces around a name are ignored). Set "
    "without `*`: a configuration error.",
)
HEALTHCHECKS_URL = Variable(
    name="<SERVICE>_HEALTHCHECKS_URL",
    parse=optional(ping_url),
    shown=Shown.PING,
    from_file=True,
    help="The same as `HEALTHCHECKS_URL`, for this database's part of each run.",
)
WAL_ARCHIVE = Variable(
    name="<SERVICE>_WAL_ARCHIVE",
    parse=boolean,
    default="false",
    help="`true`: point-in-time recovery for this service: `controller start` streams its "
    "WAL through a replication slot and takes base backups on `BASE_BACKUP_SCHEDULE` "
    "(checked by `pg_verifybackup`), into `<service>/pitr/`. Its user needs the "
    "`REPLICATION` attribute and a `pg_hba.conf` line for replication connections (see "
    "Point-in-time recovery). Dumps go on as before.",
)
_SAME_PATTERNS = "Comma-separated patterns, as for `<SERVICE>_EXCLUDE_TABLES`."
EXCLUDE_TABLES = Variable(
    name="<SERVICE>_EXCLUDE_TABLES",
    parse=patterns,
    help="Tables left out of this service's backups (`pg_dump --exclude-table`): "
    "comma-separated patterns as pg_dump reads them (`audit_log, archive.*`); a name in "
    'double quotes is read as written, a comma in it included (`"Sales, 2024"`). A backup '
    "made with any exclusion is partial (see [Partial backups](#partial-backups)).",
)
EXCLUDE_TABLE_DATA = Variable(
    name="<SERVICE>_EXCLUDE_TABLE_DATA",
    parse=patterns,
    help="Tables whose rows are left out (`--exclude-table-data`): they are restored "
    f"empty. {_SAME_PATTERNS}",
)
EXCLUDE_SCHEMAS = Variable(
    name="<SERVICE>_EXCLUDE_SCHEMAS",
    parse=patterns,
    help=f"Schemas left out with all they hold (`--exclude-schema`). {_SAME_PATTERNS}",
)
DUMP_ARGS = Variable(
    name="<SERVICE>_DUMP_ARGS",
    parse=dump_args,
    help="More `pg_dump` options, e.g. `--lock-wait-timeout=60s --no-comments`: split into "
    "words as a shell would (quotes, backslashes) but never run by one, each passed as one "
    "argument. An option that would break the controller (file, format, compression, "
    "connection, jobs, schema or data only, INSERTs, restore options...), under any "
    "abbreviation pg_dump accepts, is a configuration error (exit 2); see "
    "[Partial backups](#partial-backups).",
)
BACKUP_SCHEDULE = Variable(
    name="<SERVICE>_BACKUP_SCHEDULE",
    parse=optional(single_line),
    unset="`BACKUP_SCHEDULE`",
    help="When `controller start` dumps this service, instead of `BACKUP_SCHEDULE`: the same "
    "syntax, in `TZ` (e.g. `ORDERS_BACKUP_SCHEDULE=@hourly`); a bad one is a configuration "
    "error (exit 2) naming it. The service's next run in `status`, and the default of its "
    "`BACKUP_MAX_AGE`, follow it. Services due at the same minute are dumped side by side "
    "in one run; one due while a run of others goes on is dumped as soon as that run ends.",
)
BACKUP_MAX_AGE = Variable(
    name="<SERVICE>_BACKUP_MAX_AGE",
    parse=optional(seconds(minimum=60, maximum=MAX_AGE_SECONDS)),
    unset="`BACKUP_MAX_AGE` when set, else twice the longest gap of this service's schedule",
    help="Seconds (60 to 315360000) this service's newest backup may be old before `health` "
    "says it is at fault, instead of `BACKUP_MAX_AGE`: for a service with a schedule of its "
    "own when `BACKUP_MAX_AGE` is set for the others.",
)
# In the order `controller config` prints them, for each service.
VARIABLES: tuple[Variable[Any], ...] = (
    HOST,
    PORT,
    USER,
    PASSWORD,
    DB,
    EXCLUDE_DATABASES,
    HEALTHCHECKS_URL,
    WAL_ARCHIVE,
    EXCLUDE_TABLES,
    EXCLUDE_TABLE_DATA,
    EXCLUDE_SCHEMAS,
    DUMP_ARGS,
    BACKUP_SCHEDULE,
    BACKUP_MAX_AGE,
)
