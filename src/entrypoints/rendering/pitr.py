"""What ``basebackup`` and ``list --pitr`` print, and the document of
``list --pitr --json``. Pure: each returns lines or the document's text.

A stream is rendered part by part (:data:`STREAM_PARTS`: its base backups, its
WAL); the recoverable windows are one more part, added beside them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pg_backup_manager.domain.errors import one_line
from pg_backup_manager.domain.pitr.model import (
    DAMAGED_STREAM_ADVICE,
    BaseBackup,
    DamagedStream,
    Window,
)
from pg_backup_manager.domain.pitr.wal_names import format_lsn
from pg_backup_manager.domain.pitr.windows import shown_bounds
from pg_backup_manager.entrypoints.rendering.backups import Line, block, error, size
from pg_backup_manager.entrypoints.rendering.documents import SCHEMA, time

if TYPE_CHECKING:  # each command imports only the use cases it runs
    from pg_backup_manager.domain.pitr.basebackup import BaseBackupReport, BaseBackupResult
    from pg_backup_manager.domain.pitr.listing import (
        PitrListing,
        PitrListReport,
        StreamListing,
        WalReceived,
    )


def base_backups(report: BaseBackupReport) -> list[Line]:
    """Return one line per service: its new base backup, or its error."""
    return [base_backup(result) for result in report.results]


def base_backup(result: BaseBackupResult) -> Line:
    """Return ``basebackup <service>: <name> (<size>, <s>s, timeline N, WAL a..b), checked
    by pg_verifybackup`` (and the new stream, when one began), or the error."""
    identifier = result.database.identifier
    backup, stream = result.backup, result.stream
    if result.error is not None or backup is None or stream is None:
        return error(f"basebackup {identifier}: {one_line(result.error or 'no backup')}")
    began = f"; new stream {stream.name} ({stream.why.value})" if result.new_stream else ""
    return Line(
        f"basebackup {identifier}: {backup.name} ({size(backup.size)}, "
        f"{result.seconds:.0f}s, timeline {backup.timeline}, WAL {_range(backup)}), "
        f"checked by pg_verifybackup{began}"
    )


def listing(found: PitrListing) -> Line:
    """Return the streams of one service, newest first, each with its parts; then its
    damaged streams, one line each with what to do."""
    identifier = found.database.identifier
    damaged = [
        f"{identifier}: stream {broken.name} DAMAGED ({broken.reason}): never recovered from "
        f"nor pruned; {DAMAGED_STREAM_ADVICE}"
        for broken in found.damaged
    ]
    if not found.streams:
        return block([f"{identifier}: no base backup or WAL yet", *damaged])
    windows = found.windows
    if windows:
        lines = [f"{identifier}: recoverable {_span(window)}" for window in windows]
    else:
        lines = [f"{identifier}: nothing recoverable yet (no base backup with the WAL it needs)"]
    for listed in found.streams:
        stream = listed.stream
        lines.append(
            f"{identifier}: stream {stream.name} ({stream.why.value}; system "
            f"{stream.system_identifier}, timeline {stream.timeline}, "
            f"PostgreSQL {stream.server_major}, slot {stream.slot})"
        )
        for part in STREAM_PARTS:
            lines += [f"  {text}" for text in part(listed)]
    return block([*lines, *damaged])


def _bases(listed: StreamListing) -> list[str]:
    if not listed.base_backups:
        return ["no base backup"]
    return [
        f"base {backup.name}  finished {time(backup.finished_at)}  {size(backup.size)}  "
        f"WAL {_range(backup)}"
        for backup in listed.base_backups
    ]


def _wal(listed: StreamListing) -> list[str]:
    wal = listed.wal
    if not wal.count:
        return ["no WAL received"]
    partial = ", the last partial" if wal.partial else ""
    return [f"WAL {wal.first} .. {wal.last} ({wal.count} segments, {size(wal.size)}{partial})"]


def _windows(listed: StreamListing) -> list[str]:
    return [f"window {_span(window)}" for window in listed.windows]


def _span(window: Window) -> str:
    start, end = shown_bounds(window)
    return f"{start} .. {end} (stream {window.stream.name}, ends: {window.ends_because})"


# The parts of a stream, in order; each returns its lines.
STREAM_PARTS: tuple[Callable[[StreamListing], list[str]], ...] = (_bases, _wal, _windows)


def document(report: PitrListReport) -> str:
    """Return ``{"schema": 1, "pitr": [...]}``: per service its streams, newest first, and
    its damaged streams."""
    return json.dumps(
        {
            "schema": SCHEMA,
            "pitr": [
                {
                    "database": found.database.identifier,
                    "windows": [window_entry(window) for window in found.windows],
                    "streams": [stream_entry(listed) for listed in found.streams],
                    "damaged": [damaged_entry(broken) for broken in found.damaged],
                }
                for found in report.listings
            ],
        },
        indent=2,
    )


def stream_entry(listed: StreamListing) -> dict[str, Any]:
    """Return one stream as ``list --pitr --json`` shows it."""
    stream = listed.stream
    return {
        "name": stream.name,
        "started_at": time(stream.started_at),
        "why": stream.why.value,
        "system_identifier": stream.system_identifier,
        "timeline": stream.timeline,
        "server_major": stream.server_major,
        "wal_segment_size": stream.wal_segment_size,
        "slot": stream.slot,
        "base_backups": [base_entry(backup) for backup in listed.base_backups],
        "wal": wal_entry(listed.wal),
        "windows": [window_entry(window) for window in listed.windows],
    }


def damaged_entry(broken: DamagedStream) -> dict[str, Any]:
    """Return one damaged stream as the documents show it: its name, what is wrong and
    what to do."""
    return {"name": broken.name, "reason": broken.reason, "advice": DAMAGED_STREAM_ADVICE}


def window_entry(window: Window) -> dict[str, Any]:
    """Return one recoverable window as the documents show it."""
    start, end = shown_bounds(window)
    return {
        "stream": window.stream.name,
        "start": start,
        "end": end,
        "start_lsn": format_lsn(window.start_lsn),
        "end_lsn": format_lsn(window.end_lsn),
        "base_backups": [backup.name for backup in window.base_backups],
        "ends_because": window.ends_because,
        "gap_at": window.gap_at,
    }


def base_entry(backup: BaseBackup) -> dict[str, Any]:
    """Return one base backup as the documents show it."""
    return {
        "name": backup.name,
        "started_at": time(backup.started_at),
        "finished_at": time(backup.finished_at),
        "timeline": backup.timeline,
        "start_lsn": format_lsn(backup.start_lsn),
        "end_lsn": format_lsn(backup.end_lsn),
        "server_major": backup.server_major,
        "size_bytes": backup.size,
        "manifest_sha256": backup.manifest_sha256,
    }


def wal_entry(wal: WalReceived) -> dict[str, Any]:
    """Return the WAL of a stream as the documents show it."""
    return {
        "first": wal.first,
        "last": wal.last,
        "segments": wal.count,
        "size_bytes": wal.size,
        "partial": wal.partial,
    }


def _range(backup: BaseBackup) -> str:
    return f"{format_lsn(backup.start_lsn)}..{format_lsn(backup.end_lsn)}"
