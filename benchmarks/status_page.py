"""Time the status page (``/`` of ``METRICS_PORT``) with 10,000 backups and full histories,
and print every figure.

Run from the repository root with the test virtualenv (``./scripts/test`` makes it):

    .venv/bin/python benchmarks/status_page.py [--backups 10000] [--databases 4] [--runs 5]

It plants, in a temporary directory, ``--backups`` backups (empty files with checksum
files, named as the controller names them, one an hour back from now) spread over
``--databases`` databases, each with a full run history (1000 records: daily backup runs,
every tenth failed, and syncs, the newest of which confirmed every backup off-site),
and off-site on (so each backup's checksum file is read, the slowest case;
``--no-offsite``: without). ``--confirming N``: the newest N records are such syncs
(each line then names every backup: a history as heavy as 10,000 backups make it).
It then builds the page as ``controller start`` does (the real backup store and
history, through the container) and times, medians of ``--runs``:

- ``status --json`` (what ``/status.json`` serves);
- the page's report (``health``'s judgement and each database's newest runs);
- rendering it to HTML, and its size.

It asserts nothing: the README's Performance section quotes its figures.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pg_backup_manager.domain.monitoring.page import StatusPage
from pg_backup_manager.domain.names import BackupName, Tier
from pg_backup_manager.entrypoints.containers import Container
from pg_backup_manager.entrypoints.rendering import documents
from pg_backup_manager.entrypoints.rendering.page import page

HISTORY = 1000
EMPTY_SHA = hashlib.sha256(b"").hexdigest()


def plant(root: Path, identifier: str, backups: int, now: datetime, confirming: int) -> None:
    """Give ``identifier`` ``backups`` empty backups and a history of ``HISTORY`` records,
    the newest ``confirming`` of them syncs that confirmed every backup off-site."""
    directory = root / "backup-data" / "data" / identifier
    directory.mkdir(parents=True)
    names = []
    for hour in range(1, backups + 1):
        name = BackupName.for_run(tier=Tier.DAILY, at=now - timedelta(hours=hour))
        names.append(str(name))
        (directory / str(name)).write_bytes(b"")
        (directory / f"{name}.sha256").write_text(f"{EMPTY_SHA}  {name}\n")
    lines = []
    for index in range(HISTORY):
        end = now - timedelta(days=(HISTORY - index) / 2)
        failed = index % 2 == 0 and index % 20 == 0
        operation = "scheduled" if index % 2 == 0 else "sync"
        record = {
            "operation": operation,
            "started_at": (end - timedelta(seconds=90)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "finished_at": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "outcome": "failure" if failed else "success",
            "runs_success": index,
            "runs_failure": index // 20,
        }
        if failed:
            record["error"] = "pg_dump: error: connection to server failed"
        elif operation == "scheduled":
            record["size_bytes"] = 10_000_000 + index * 1000
        if HISTORY - index <= confirming:
            record.update(operation="sync", outcome="success", error=None)
            record["confirmed_offsite"] = dict.fromkeys(names, EMPTY_SHA)
        lines.append(json.dumps(record) + "\n")
    (directory / "history.jsonl").write_text("".join(lines))


def timed(runs: int, work: object) -> tuple[float, object]:
    """Return the median seconds of ``runs`` calls of ``work`` and its last result."""
    took, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = work()  # type: ignore[operator]
        took.append(time.perf_counter() - started)
    return statistics.median(took), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backups", type=int, default=10_000)
    parser.add_argument("--databases", type=int, default=4)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-offsite", action="store_true", help="without OFFSITE_URL")
    parser.add_argument("--confirming", type=int, default=1, help="syncs naming every backup")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="pgbm-page-bench-"))
    try:
        now = datetime.now(UTC).replace(microsecond=0)
        identifiers = [f"db{n}" for n in range(args.databases)]
        each = args.backups // args.databases
        for identifier in identifiers:
            plant(root, identifier, each, now, args.confirming)
        environ = {"DATABASE_LIST": ",".join(identifiers)}
        if not args.no_offsite:
            environ["OFFSITE_URL"] = f"file://{root}/offsite"
        container = Container(environ=environ, cwd=root)
        databases = container.config().databases
        status = container.status()
        histories = container.history()
        shown = StatusPage(check_health=container.check_health(), histories=histories)

        json_took, _ = timed(
            args.runs,
            lambda: documents.statuses(status.reading(histories.read_once())(databases)),
        )
        report_took, report = timed(args.runs, lambda: shown(databases))
        render_took, html = timed(args.runs, lambda: page(report))  # type: ignore[arg-type]
        offsite = "off-site off" if args.no_offsite else "off-site on"
        print(
            f"{args.backups} backups, {args.databases} databases, {HISTORY} records each "
            f"({args.confirming} naming every backup), {offsite}"
        )
        print(f"status.json:         {json_took * 1000:7.1f} ms (median of {args.runs})")
        print(f"page report:         {report_took * 1000:7.1f} ms")
        print(f"page rendering:      {render_took * 1000:7.1f} ms")
        print(f"page in all:         {(report_took + render_took) * 1000:7.1f} ms")
        print(f"page size:           {len(str(html).encode()) / 1024:7.1f} KiB")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
