"""Measure what a service of every database (``<SERVICE>_POSTGRES_DB=*``) costs over the raw
tools; print it all.

Run as root from the repository root, after ``./scripts/test`` made ``.venv`` (no Docker:
the server is a PostgreSQL 15 cluster of this host, started as the postgres user):

    .venv/bin/python benchmarks/every_database.py [--databases 50] [--rows 20000] [--runs 3]

It creates ``--databases`` databases of one table of ``--rows`` rows each (about 1 MiB a
database at the default) and times, interleaved, medians of ``--runs``:

- raw: what an operator's script does, one ``pg_dumpall --globals-only`` then one
  ``pg_dump -Fc`` per database, one after the other (the host's tools are 15's, without
  zstd: the controller uses their default, gzip, too);
- ``controller dump main`` with ``BACKUP_PARALLELISM=1`` (one database at a time, as the
  script) and with the default parallelism. Each controller run lists the databases,
  dumps each into its own directory with its checksum, the globals once, and checks each
  archive with ``pg_restore --list``; the backups of a run are deleted before the next.

It prints each figure, the controller's time over raw and the cost per database; it
asserts nothing.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.integration.pitr_cluster import host_cluster, sql  # noqa: E402
from tests.integration.regression_db import PASSWORD, PG_BIN, HostServer  # noqa: E402

CONTROLLER = REPO / ".venv" / "bin" / "controller"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--databases", type=int, default=50)
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    with host_cluster("every-database-bench") as host:
        for n in range(options.databases):
            sql(host, f"CREATE DATABASE bench_{n:03}")
            sql(
                host,
                "CREATE TABLE t AS SELECT g AS id, md5(g::text) AS v "
                f"FROM generate_series(1, {options.rows}) g",
                db=f"bench_{n:03}",
            )
        work = Path(tempfile.mkdtemp(prefix="every-database-bench-"))
        shutil.chown(work, "postgres", "postgres")
        try:
            figures = measure(host, work, options)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    report(figures, options)


def measure(host: HostServer, work: Path, options: argparse.Namespace) -> dict[str, list[float]]:
    figures: dict[str, list[float]] = {"raw": [], "controller, 1 at a time": [], "controller": []}
    names = [f"bench_{n:03}" for n in range(options.databases)]
    for _ in range(options.runs):
        figures["raw"].append(timed(lambda: raw(host, work / "raw", names)))
        for label, parallelism in (("controller, 1 at a time", "1"), ("controller", None)):
            figures[label].append(timed(lambda p=parallelism: controller(host, work, p)))
    return figures


def timed(action: Callable[[], None]) -> float:
    started = time.monotonic()
    action()
    return time.monotonic() - started


def connection(host: HostServer) -> dict[str, str]:
    return {
        "PATH": "/usr/bin:/bin",
        "PGHOST": "127.0.0.1",
        "PGPORT": str(host.port),
        "PGUSER": "postgres",
        "PGPASSWORD": PASSWORD,
    }


def raw(host: HostServer, into: Path, names: list[str]) -> None:
    shutil.rmtree(into, ignore_errors=True)
    into.mkdir()
    env = connection(host)
    tool = str(PG_BIN / "pg_dumpall")
    run([tool, "--globals-only", "-f", str(into / "globals.sql")], env)
    for name in names:
        dump = [str(PG_BIN / "pg_dump"), "-Fc", "-d", name, "-f", str(into / f"{name}.dump")]
        run(dump, env)


def controller(host: HostServer, work: Path, parallelism: str | None) -> None:
    shutil.rmtree(work / "backup-data", ignore_errors=True)
    env = {
        "PATH": f"{CONTROLLER.parent}:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "TZ": "UTC",
        "HOME": str(work),
        "DATABASE_LIST": "main",
        "MAIN_POSTGRES_HOST": "127.0.0.1",
        "MAIN_POSTGRES_PORT": str(host.port),
        "MAIN_POSTGRES_PASSWORD": PASSWORD,
        "MAIN_POSTGRES_DB": "*",
        "MAIN_EXCLUDE_DATABASES": "postgres",
    }
    if parallelism is not None:
        env["BACKUP_PARALLELISM"] = parallelism
    run([str(CONTROLLER), "dump", "main"], env, cwd=work)


def run(argv: list[str], env: dict[str, str], cwd: Path | None = None) -> None:
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"{' '.join(argv)} exited {done.returncode}: {done.stderr.strip()[-2000:]}")


def report(figures: dict[str, list[float]], options: argparse.Namespace) -> None:
    raw_s = statistics.median(figures["raw"])
    print(f"{options.databases} databases of {options.rows} rows, medians of {options.runs}")
    for label, samples in figures.items():
        median = statistics.median(samples)
        spread = ", ".join(f"{s:.2f}" for s in samples)
        line = f"{label:26} {median:7.2f} s  ({spread})"
        if label != "raw":
            extra = (median - raw_s) / options.databases
            line += f"  {median / raw_s:.2f}x raw, {extra * 1000:+.0f} ms a database"
        print(line)


if __name__ == "__main__":
    main()
