"""Print how much time the controller adds to raw pg_dump and pg_restore.

Run as root on the test machine after ./scripts/test has built everything:

    .venv/bin/python benchmarks/dump_restore_overhead.py [--megabytes 200] [--runs 3]

It starts the pg-a test server (docker/compose.test.yml, 127.0.0.1:55432),
fills a database with incompressible-ish rows, then times, in the same run:
raw `pg_dump -Fc -f` against `controller dump` (which also reads the archive
back through pg_restore and hashes it), and raw `pg_restore` into a fresh
database against `controller restore --no-safety-dump` (checksum check,
scratch database, swap). It prints medians and ratios; it asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PG_BIN = Path("/usr/lib/postgresql/15/bin")
CONTROLLER = Path(sys.executable).parent / "controller"
HOST, PORT, PASSWORD, DB = "127.0.0.1", "55432", "secret-a", "bench"
ENV = {"PATH": "/usr/bin:/bin", "PGPASSWORD": PASSWORD, "LANG": "C.UTF-8"}


def psql(sql: str, db: str = "postgres") -> None:
    subprocess.run(
        [str(PG_BIN / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", HOST, "-p", PORT,
         "-U", "postgres", "-d", db, "-c", sql],
        env=ENV, check=True, capture_output=True,
    )


def timed(argv: list[str], **kwargs: object) -> float:
    started = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True, **kwargs)  # type: ignore[call-overload]
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()

    subprocess.run(
        ["docker-compose", "-f", str(REPO / "docker/compose.test.yml"), "-p",
         "pg-backup-manager-bench", "up", "--build", "-d", "pg-a"],
        check=True, capture_output=True,
    )
    for _ in range(120):
        if subprocess.run([str(PG_BIN / "psql"), "-h", HOST, "-p", PORT, "-U", "postgres",
                           "-c", "select 1"], env=ENV, capture_output=True).returncode == 0:
            break
        time.sleep(0.5)
    rows = options.megabytes * 1024 * 1024 // 100
    psql(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
    psql(f"CREATE DATABASE {DB}")
    psql(f"CREATE TABLE t AS SELECT g AS id, md5(g::text) || md5((g * 7)::text) || "
         f"md5(random()::text) AS payload FROM generate_series(1, {rows}) g", db=DB)

    work = Path(tempfile.mkdtemp(prefix="pgbm-bench-"))
    os.chmod(work, 0o777)
    shutil.chown(work, "postgres", "postgres")
    env = {**ENV, "PATH": f"{CONTROLLER.parent}:/usr/bin:/bin", "DATABASE_LIST": "b",
           "B_POSTGRES_HOST": HOST, "B_POSTGRES_PORT": PORT, "B_POSTGRES_PASSWORD": PASSWORD,
           "B_POSTGRES_DB": DB, "TZ": "UTC", "HOME": str(work)}
    raw_dump, our_dump, raw_restore, our_restore = [], [], [], []
    for run in range(options.runs):
        raw = work / f"raw-{run}.dump"
        raw_dump.append(timed([str(PG_BIN / "pg_dump"), "-Fc", "-h", HOST, "-p", PORT,
                               "-U", "postgres", "-f", str(raw), DB], env=ENV))
        our_dump.append(timed([str(CONTROLLER), "dump", "b"], env=env, cwd=work))
        psql(f"DROP DATABASE IF EXISTS {DB}_raw")
        psql(f"CREATE DATABASE {DB}_raw TEMPLATE template0")
        raw_restore.append(timed([str(PG_BIN / "pg_restore"), "--exit-on-error", "-h", HOST,
                                  "-p", PORT, "-U", "postgres", "-d", f"{DB}_raw", str(raw)],
                                 env=ENV))
        newest = sorted((work / "backup-data/data/b").glob("file_*.dump"))[-1].name
        our_restore.append(timed([str(CONTROLLER), "restore", "b", newest, "--no-safety-dump"],
                                 env=env, cwd=work))
    psql(f"DROP DATABASE IF EXISTS {DB}_raw")
    size = (work / "raw-0.dump").stat().st_size / 1024 / 1024
    print(f"data: {rows} rows, archive {size:.0f} MiB, {options.runs} runs, medians:")
    for what, raw_times, ours in (("dump", raw_dump, our_dump),
                                  ("restore", raw_restore, our_restore)):
        a, b = statistics.median(raw_times), statistics.median(ours)
        print(f"  {what:8} raw {a:7.2f} s   controller {b:7.2f} s   ratio {b / a:5.2f}")
    shutil.rmtree(work)
    subprocess.run(["docker-compose", "-f", str(REPO / "docker/compose.test.yml"), "-p",
                    "pg-backup-manager-bench", "down", "-v"], check=False, capture_output=True)


if __name__ == "__main__":
    main()
