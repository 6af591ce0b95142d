"""Time the controller against the raw PostgreSQL tools, and print every figure.

Run as root on the test machine (Docker engine up), from the repository root,
after building the controller image and a test server image:

    docker build --network host -f docker/Dockerfile -t pg-backup-manager-bench .
    docker build --network host -t pg-backup-manager-test-postgres:18 \\
        --build-arg BASE_IMAGE=debian:forky-slim --build-arg PG_MAJOR=18 \\
        --build-arg EXTRA_PACKAGES=postgresql-18-pgvector docker/test-postgres
    python3 benchmarks/dump_restore_overhead.py [--runs 5] [--server-major 18] [--scale 10]

It starts its own server container (``pg-backup-manager-bench-server``, host
network, 127.0.0.1:55450: apart from the test suites' ports) and fills it once:
database ``bench`` with ``pgbench -i -s <scale>`` plus <md5-rows> rows of md5
text (about 300 MB that does not compress away), and ``bench_small`` a tenth of
it. Then, in one container of the controller image (``inside_image.py``, as the
postgres user, raw tools and controller side by side with the image's client
tools), it times, runs interleaved, medians of ``--runs``:

- raw ``pg_dump -Fc`` with candidate compressions (time and size), the read-back
  alone, and ``controller dump`` (default compression, read back and hashed);
- raw single-stream ``pg_restore`` of the controller's archive into a new database
  against ``controller restore --no-safety-dump``;
- ``controller list`` and ``prune --dry-run`` over 10,000 planted backups,
  ``controller --help``, the idle RSS of ``controller start``, and the peak RSS
  of ``controller dump`` (with its children) of the small and the big database.

It prints each figure, the ratios and whether each target (issues 10 and 17) is met;
it asserts nothing. ``--keep`` leaves the server (and its data) for the next run.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SERVER = "pg-backup-manager-bench-server"
RUNNER = "pg-backup-manager-bench-runner"
VOLUME = "pg-backup-manager-bench-work"
PASSWORD = "bench"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--port", type=int, default=55450)
    parser.add_argument("--server-major", type=int, default=18)
    parser.add_argument("--scale", type=int, default=10, help="pgbench scale of bench")
    parser.add_argument("--md5-rows", type=int, default=1_000_000)
    parser.add_argument("--image", default="pg-backup-manager-bench")
    parser.add_argument("--keep", action="store_true", help="keep the server and its data")
    parser.add_argument("--candidates", default="default,zstd:1,zstd:3,zstd:6,lz4,gzip:1")
    options = parser.parse_args()

    fresh = start_server(options)
    try:
        if fresh:
            fill(options, "bench", options.scale, options.md5_rows)
            fill(options, "bench_small", max(options.scale // 10, 1), options.md5_rows // 10)
        docker("volume", "rm", "-f", VOLUME, check=False)
        docker("rm", "-f", RUNNER, check=False)
        # Host network only; the work directory is a volume, as backups are in production
        # (mounted where the image has a directory of the postgres user, so that it owns it).
        work = "/var/lib/postgresql/backup"
        argv = [
            "docker",
            "run",
            "--rm",
            "--name",
            RUNNER,
            "--network",
            "host",
            "--user",
            "postgres",
            "--entrypoint",
            "python3",
            "-v",
            f"{HERE}:/bench:ro",
            "-v",
            f"{VOLUME}:{work}",
            options.image,
            "/bench/inside_image.py",
            "--port",
            str(options.port),
            "--runs",
            str(options.runs),
            "--work",
            work,
            "--candidates",
            options.candidates,
        ]
        sys.exit(subprocess.run(argv).returncode)
    finally:
        docker("volume", "rm", "-f", VOLUME, check=False)
        if not options.keep:
            docker("rm", "-f", SERVER, check=False)


def start_server(options: argparse.Namespace) -> bool:
    """Start the server container unless it runs already; return whether it is new."""
    image = f"pg-backup-manager-test-postgres:{options.server_major}"
    running = docker("ps", "-q", "--filter", f"name=^{SERVER}$", check=False).strip()
    if running and docker("inspect", "-f", "{{.Config.Image}}", running).strip() == image:
        return False
    docker("rm", "-f", SERVER, check=False)
    docker(
        "run",
        "-d",
        "--name",
        SERVER,
        "--network",
        "host",
        "--shm-size",
        "256m",
        "-e",
        f"POSTGRES_PASSWORD={PASSWORD}",
        "-e",
        f"PGPORT={options.port}",
        image,
    )
    for _ in range(240):
        if server_sql(options, "select 1", check=False) == "1":
            return True
        time.sleep(0.5)
    raise SystemExit(f"{SERVER} did not answer on port {options.port}")


def fill(options: argparse.Namespace, db: str, scale: int, md5_rows: int) -> None:
    """pgbench's tables at ``scale`` and ``md5_rows`` rows of md5 text (incompressible-ish)."""
    print(f"filling {db}: pgbench scale {scale}, {md5_rows} md5 rows", flush=True)
    server_sql(options, f"CREATE DATABASE {db}")
    docker(
        "exec",
        "-e",
        f"PGPASSWORD={PASSWORD}",
        SERVER,
        f"/usr/lib/postgresql/{options.server_major}/bin/pgbench",
        "-i",
        "-q",
        "-s",
        str(scale),
        *server_options(options),
        db,
    )
    server_sql(
        options,
        "CREATE TABLE texts AS SELECT g AS id, md5(g::text) AS a, md5(random()::text) AS b, "
        f"md5(random()::text) || md5(random()::text) AS c FROM generate_series(1, {md5_rows}) g",
        db=db,
    )
    server_sql(options, "ALTER TABLE texts ADD PRIMARY KEY (id)", db=db)
    server_sql(options, "VACUUM ANALYZE", db=db)


def server_options(options: argparse.Namespace) -> list[str]:
    """The connection options of the tools in the server container, as postgres."""
    return ["-h", "127.0.0.1", "-p", str(options.port), "-U", "postgres"]


def server_sql(
    options: argparse.Namespace, sql: str, *, db: str = "postgres", check: bool = True
) -> str:
    return docker(
        "exec",
        "-e",
        f"PGPASSWORD={PASSWORD}",
        SERVER,
        "psql",
        "-X",
        "-q",
        "-At",
        "-v",
        "ON_ERROR_STOP=1",
        *server_options(options),
        "-d",
        db,
        "-c",
        sql,
        check=check,
    ).strip()


def docker(*args: str, check: bool = True) -> str:
    done = subprocess.run(["docker", *args], capture_output=True, text=True)
    if check and done.returncode != 0:
        raise SystemExit(f"docker {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


if __name__ == "__main__":
    main()
