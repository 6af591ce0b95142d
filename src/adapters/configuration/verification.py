"""The variables of restore tests on a schedule, and how they are read together."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pg_backup_manager.adapters.configuration.variable import Variable
from pg_backup_manager.adapters.cron import CronSchedule
from pg_backup_manager.adapters.env_values import boolean, optional, single_line
from pg_backup_manager.domain.errors import ConfigurationError
from pg_backup_manager.domain.verification.model import VerifySchedule

if TYPE_CHECKING:
    from pg_backup_manager.adapters.offsite.settings import OffsiteSettings

VERIFY_SCHEDULE = Variable(
    name="VERIFY_SCHEDULE",
    parse=optional(single_line),
    unset="(off)",
    help="When `controller start` (whatever `MODE` says) proves each database's newest "
    "backup restores, as "
    "`verify --restore` does (restored into a scratch database, its rows counted, dropped), "
    "one database at a time and never beside a backup run: a cron expression in the syntax "
    "of `BACKUP_SCHEDULE`, e.g. `30 4 * * 0` (Sundays at 04:30). Each result goes to the "
    "history (`verify-scheduled`), `status`, the metrics and notifications; a failed one "
    "makes `health` fail until a later one passes.",
)
VERIFY_REMOTE = Variable(
    name="VERIFY_REMOTE",
    parse=boolean,
    default="false",
    help="`true`: each scheduled verification also downloads and verifies the newest "
    "usable off-site copy (`verify --remote --restore`; `verify-scheduled-remote` in the "
    "history). Needs `VERIFY_SCHEDULE` and `OFFSITE_URL`, and `ENCRYPTION_IDENTITY_FILE` "
    "when `ENCRYPTION_RECIPIENTS` is set; otherwise a configuration error (exit 2).",
)
# In the order `controller config` prints them.
VARIABLES: tuple[Variable[Any], ...] = (VERIFY_SCHEDULE, VERIFY_REMOTE)


def verify_schedule(
    environ: Mapping[str, str], *, timezone: str, offsite: OffsiteSettings | None
) -> VerifySchedule | None:
    """Return the scheduled verifications asked for, or None (``VERIFY_SCHEDULE`` unset).

    Raises:
        ConfigurationError: ``VERIFY_SCHEDULE`` is not a cron schedule, or
            ``VERIFY_REMOTE`` is not a boolean or is true without what it needs; the
            message names the variable.
    """
    remote = VERIFY_REMOTE.read(environ)
    text = VERIFY_SCHEDULE.read(environ)
    if remote:
        lacking = _remote_lacks(scheduled=text is not None, offsite=offsite)
        if lacking is not None:
            raise ConfigurationError(f"VERIFY_REMOTE=true needs {lacking}")
    if text is None:
        return None
    schedule = CronSchedule.parse(text, timezone, variable=VERIFY_SCHEDULE.name)
    return VerifySchedule(schedule=schedule, remote=remote)


def _remote_lacks(*, scheduled: bool, offsite: OffsiteSettings | None) -> str | None:
    """Return what ``VERIFY_REMOTE=true`` lacks to do anything, or None."""
    if not scheduled:
        return "VERIFY_SCHEDULE: it says when the off-site copies are verified"
    if offsite is None:
        return "OFFSITE_URL: there are no off-site copies to verify"
    if offsite.recipients and offsite.identity_file is None:
        return (
            "ENCRYPTION_IDENTITY_FILE: the copies are encrypted to ENCRYPTION_RECIPIENTS "
            "and cannot be verified without a secret key"
        )
    return None
