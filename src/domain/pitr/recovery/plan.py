"""Pure rules: what ``recover --to`` writes for a target: which window and base
backup, which WAL beside it, and the settings that make a server recover by itself.

Two steps, because one needs a fact only the WAL holds: :func:`choose_source` picks
the window, the base backup and the WAL to copy; an adapter then reads the newest
commit in that WAL (``pg_waldump``), and :func:`plan_recovery` writes the settings.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import attrs

from pg_backup_manager.domain.errors import BackupNotFoundError, ConfigurationError
from pg_backup_manager.domain.pitr.model import BaseBackup, Segment, Window
from pg_backup_manager.domain.pitr.wal_names import segment_name, segment_of
from pg_backup_manager.domain.pitr.windows import shown_bounds

WAL_DIRECTORY = "pg_backup_wal"
"""The directory, inside the recovered data directory, that holds the WAL to replay."""
_RESTORE_COMMAND = "cp " + WAL_DIRECTORY + '/%f "%p"'
_END_COMMAND = "rm -rf " + WAL_DIRECTORY
_SHOWN = "%Y-%m-%dT%H:%M:%SZ"
_SECOND = timedelta(seconds=1)


class Latest(enum.Enum):
    """The target "as far as the WAL goes": the end of the newest window."""

    LATEST = "latest"


LATEST = Latest.LATEST
Target = datetime | Latest


@attrs.frozen(kw_only=True)
class WalCopy:
    """One segment to copy into :data:`WAL_DIRECTORY`, under ``name``: its segment
    name, which drops ``.partial`` (replay stops at the partial's zero padding)."""

    segment: Segment
    name: str


@attrs.frozen(kw_only=True)
class RecoverySource:
    """What a recovery starts from: a window, the base backup in it, and the WAL from
    that base backup's start segment to the end of the window, by number."""

    window: Window
    base_backup: BaseBackup
    wal: tuple[WalCopy, ...]


@attrs.frozen(kw_only=True)
class RecoveryPlan:
    """What to write beside the base backup: the WAL (``source.wal``), an empty
    ``recovery.signal``, and ``settings``, the lines to append to
    ``postgresql.auto.conf``. ``target`` is the time written (None: replay to the end
    of the WAL); ``note`` says when a time target was dropped, and why."""

    source: RecoverySource
    settings: tuple[str, ...]
    target: datetime | None
    note: str | None = None


def choose_source(windows: Sequence[Window], target: Target) -> RecoverySource:
    """Return where a recovery to ``target`` starts.

    ``LATEST``: the newest window (latest end) and its newest base backup. A time:
    the window that holds it (start <= time <= end; the newest of several) and its
    newest base backup finished at or before that time. The WAL is every segment of
    the window from the one holding the base backup's start to the window's end, even
    for a time target: copying past the target costs space, never correctness
    (recovery stops at the target), and the check in :func:`plan_recovery` needs the
    newest commit of all the WAL given.

    Raises:
        BackupNotFoundError: there is no window at all (no base backup with its WAL).
        ConfigurationError: the time is in no window; the message names each window.
        ValueError: the time is naive.
    """
    if not windows:
        raise BackupNotFoundError(
            "nothing to recover from: no base backup with the WAL it needs yet"
        )
    if isinstance(target, Latest):
        window = max(windows, key=lambda w: (w.end_at, w.start_at))
        base = max(window.base_backups, key=_base_order)
        return _source(window, base)
    if target.utcoffset() is None:
        raise ValueError(f"{target!r} has no time zone")
    holding = [w for w in windows if w.holds(target)]
    if not holding:
        raise ConfigurationError(_outside(target, windows))
    window = max(holding, key=lambda w: (w.start_at, w.end_at))
    base = max((b for b in window.base_backups if b.finished_at <= target), key=_base_order)
    return _source(window, base)


def plan_recovery(
    source: RecoverySource, *, target: Target, last_commit_at: datetime | None
) -> RecoveryPlan:
    """Return the settings that recover ``source`` to ``target`` and promote.

    Always: ``restore_command`` copies from :data:`WAL_DIRECTORY` (relative: a server
    runs in its data directory, so the volume may be mounted anywhere),
    ``recovery_end_command`` removes that directory once recovery is over (as Barman
    does: a promoted server never reads it again, and it may hold a day of WAL), and
    ``recovery_target_timeline = 'current'`` (one stream is one timeline). A time
    target adds ``recovery_target_time`` (UTC), inclusive, and promotes there.

    ``last_commit_at`` is the newest commit time in the WAL copied (None: it holds no
    commit). An inclusive time target stops just before the first commit later than
    the target, so it needs one: from PostgreSQL 13 a server whose WAL ends first
    refuses to start ("recovery ended before configured recovery target was
    reached"; seen on 15 with the target equal to the last commit). When the target
    is at or after ``last_commit_at`` nothing was committed after it, so the plan
    writes no target, replays to the end of the WAL (the same data) and says so in
    ``note``.
    """
    settings = [
        f"restore_command = {quote_setting(_RESTORE_COMMAND)}",
        f"recovery_end_command = {quote_setting(_END_COMMAND)}",
        f"recovery_target_timeline = {quote_setting('current')}",
    ]
    if isinstance(target, Latest):
        return RecoveryPlan(source=source, settings=tuple(settings), target=None)
    at = target.astimezone(UTC)
    if last_commit_at is None or at >= last_commit_at:
        after = "" if last_commit_at is None else f" (the last is at {_shown(last_commit_at)})"
        note = (
            f"nothing was committed after {_shown(at)} in the WAL{after}: recovering to "
            "the end of the WAL instead, which holds the same data"
        )
        return RecoveryPlan(source=source, settings=tuple(settings), target=None, note=note)
    settings += [
        f"recovery_target_time = {quote_setting(at.isoformat())}",
        "recovery_target_inclusive = true",
        f"recovery_target_action = {quote_setting('promote')}",
    ]
    return RecoveryPlan(source=source, settings=tuple(settings), target=at)


def quote_setting(value: str) -> str:
    """Return ``value`` as a quoted string in a PostgreSQL configuration file: single
    quotes doubled and backslashes doubled (the file's reader takes ``\\`` as an
    escape).

    Raises:
        ValueError: ``value`` holds a line break or a NUL, which no setting line can.
    """
    if any(c in value for c in "\n\r\0"):
        raise ValueError(f"{value!r} cannot be written in a configuration file")
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def describe_windows(windows: Sequence[Window]) -> str:
    """Return the windows as one line: ``A .. B`` each, oldest first, in UTC to the
    millisecond (:func:`shown_bounds`); the newest is marked when there are several."""
    ordered = sorted(windows, key=lambda w: (w.start_at, w.end_at))
    newest = max(ordered, key=lambda w: (w.end_at, w.start_at)) if ordered else None
    parts = []
    for window in ordered:
        start, end = shown_bounds(window)
        text = f"{start} .. {end}"
        parts.append(f"{text} (the newest)" if window is newest and len(ordered) > 1 else text)
    return ", ".join(parts)


def _outside(target: datetime, windows: Sequence[Window]) -> str:
    which = "the window is" if len(windows) == 1 else "the windows are"
    return (
        f"{_shown(target)} is in no recoverable window (times in UTC): {which} "
        f"{describe_windows(windows)}"
    )


def _source(window: Window, base: BaseBackup) -> RecoverySource:
    stream = window.stream
    first = segment_of(base.start_lsn, stream.wal_segment_size)
    wal = tuple(
        WalCopy(
            segment=s,
            name=segment_name(s.timeline, s.number, stream.wal_segment_size),
        )
        for s in window.segments
        if s.number >= first
    )
    return RecoverySource(window=window, base_backup=base, wal=wal)


def _base_order(base: BaseBackup) -> tuple[datetime, int, str]:
    return (base.finished_at, base.end_lsn, base.name)


def _shown(at: datetime) -> str:
    return at.astimezone(UTC).strftime(_SHOWN)
