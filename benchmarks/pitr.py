"""Measure what point-in-time recovery costs and gives back, through the image; print it all.

Run as root on the test machine (Docker engine up), from the repository root, with the
controller image and a test server image built (the e2e tests build both:
``pg-backup-manager-e2e:latest`` and ``pg-backup-manager-test-postgres:<major>``):

    python3 benchmarks/pitr.py [--runs 5] [--server-major 18] [--scale 20] [--rounds 3]

It starts its own server container (``pg-backup-manager-pitr-bench-server``, host
network, 127.0.0.1:55451, accepting replication from 127.0.0.1 through
docker/e2e/initdb-replication.sh) and fills database ``bench`` with ``pgbench -i -s
<scale>`` (about 15 MiB a unit). Then one container of the controller image runs
``controller start`` with ``BENCH_WAL_ARCHIVE=true`` (production paths on a volume of
its own; no dump or base backup due), which creates the slot, takes the first base
backup and keeps ``pg_receivewal`` streaming. Once the window is there it measures:

- the receiver idle: CPU and RSS of ``pg_receivewal`` and of ``controller start`` over
  ``--idle`` seconds with no writes (``pitr_inside.py idle``, from /proc);
- a base backup: raw ``pg_basebackup`` with the controller's options, the same plus the
  server major's ``pg_verifybackup``, and ``controller basebackup``, interleaved, medians
  of ``--runs`` (``pitr_inside.py basebackup``);
- the RPO, ``--rounds`` times: a host psql inserts a row every 100 ms for 5 s, the
  server's container is killed with SIGKILL, ``recover --to latest`` writes a new data
  directory, a new server container starts on it and promotes; the RPO is the kill's
  time less the newest row's recovered; the server is then started again.

The host side (psql, docker, the writer) is ``pitr_host.py``. It prints each figure and
the ratio against its target (issue 18: ``controller basebackup`` at most 1.1 times raw
``pg_basebackup``); it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from pitr_host import PASSWORD, docker, free_port, sql, wait_for, write_then_kill

HERE = Path(__file__).resolve().parent
REPLICATION_HBA = HERE.parent / "docker" / "e2e" / "initdb-replication.sh"
SERVER = "pg-backup-manager-pitr-bench-server"
CONTROLLER = "pg-backup-manager-pitr-bench-controller"
RECOVERED = "pg-backup-manager-pitr-bench-recovered"
VOLUMES = {"data": "pg-backup-manager-pitr-bench-data", "backup": "pg-backup-manager-pitr-bench"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--idle", type=int, default=60, help="seconds of idle measured")
    parser.add_argument("--port", type=int, default=55451)
    parser.add_argument("--server-major", type=int, default=18)
    parser.add_argument("--scale", type=int, default=20, help="pgbench scale of bench")
    parser.add_argument("--image", default="pg-backup-manager-e2e:latest")
    options = parser.parse_args()
    restore = Path(tempfile.mkdtemp(prefix="pitr-bench-", dir="/var/tmp"))
    os.chown(restore, 999, 999)
    try:
        clean()
        start_server(options)
        fill(options)
        start_controller(options, restore)
        wait_for_window()
        results = inside("idle", str(options.idle))
        results |= inside(
            "basebackup", str(options.runs), str(options.server_major), str(options.port)
        )
        results |= rpo(options, restore)
        summary(results)
    finally:
        clean()
        shutil.rmtree(restore, ignore_errors=True)


def clean() -> None:
    docker("rm", "-f", CONTROLLER, SERVER, RECOVERED, check=False)
    docker("volume", "rm", "-f", *VOLUMES.values(), check=False)


def start_server(options: argparse.Namespace) -> None:
    docker(
        "run", "-d", "--name", SERVER, "--network", "host", "--shm-size", "256m",
        "-e", "POSTGRES_PASSWORD", "-e", f"PGPORT={options.port}",
        "-v", f"{VOLUMES['data']}:/var/lib/postgresql/data",
        "-v", f"{REPLICATION_HBA}:/docker-entrypoint-initdb.d/replication.sh:ro",
        f"pg-backup-manager-test-postgres:{options.server_major}",
    )  # fmt: skip
    wait_for(lambda: sql(options.port, "select 1", check=False) == "1", f"{SERVER} to answer")


def fill(options: argparse.Namespace) -> None:
    print(f"filling bench: pgbench scale {options.scale}", flush=True)
    sql(options.port, "CREATE DATABASE bench")
    docker(
        "exec", "-e", "PGPASSWORD", SERVER,
        f"/usr/lib/postgresql/{options.server_major}/bin/pgbench", "-i", "-q",
        "-s", str(options.scale), "-h", "127.0.0.1", "-p", str(options.port), "-U", "postgres",
        "bench",
    )  # fmt: skip
    sql(options.port, "VACUUM ANALYZE", db="bench")
    size = int(sql(options.port, "SELECT pg_database_size('bench')"))
    version = sql(options.port, "SHOW server_version")
    print(f"bench: {size / 1024 / 1024:.0f} MiB, PostgreSQL {version}")


def start_controller(options: argparse.Namespace, restore: Path) -> None:
    env = {
        "DATABASE_LIST": "bench",
        "MODE": "production",
        "BACKUP_SCHEDULE": "0 3 1 1 *",
        "BASE_BACKUP_SCHEDULE": "0 3 1 1 *",
        "BENCH_POSTGRES_HOST": "127.0.0.1",
        "BENCH_POSTGRES_PORT": str(options.port),
        "BENCH_POSTGRES_PASSWORD": PASSWORD,
        "BENCH_POSTGRES_DB": "bench",
        "BENCH_WAL_ARCHIVE": "true",
    }
    docker(
        "run", "-d", "--name", CONTROLLER, "--network", "host",
        "-v", f"{VOLUMES['backup']}:/var/lib/postgresql/backup",
        "-v", f"{restore}:/restore", "-v", f"{HERE}:/bench:ro",
        *(option for name in env for option in ("-e", name)),
        options.image,
        env=env,
    )  # fmt: skip


def controller(*args: str) -> str:
    return docker("exec", CONTROLLER, "/controller", *args)


def wait_for_window() -> None:
    def has_window() -> bool:
        listed = json.loads(controller("list", "bench", "--pitr", "--json"))
        return bool(listed["pitr"][0]["windows"])

    wait_for(has_window, "the first window", timeout=600)


def inside(*args: str) -> dict[str, float]:
    said = docker(
        "exec", "--user", "postgres", "-e", "PGPASSWORD", CONTROLLER,
        "python3", "/bench/pitr_inside.py", *args,
    )  # fmt: skip
    *lines, last = said.splitlines()
    print("\n".join(lines), flush=True)
    return json.loads(last)  # type: ignore[no-any-return]


def rpo(options: argparse.Namespace, restore: Path) -> dict[str, float]:
    """Kill the server under writes ``--rounds`` times; recover each time; the RPOs."""
    measured, lost = [], []
    for round_ in range(options.rounds):
        sql(
            options.port,
            "DROP TABLE IF EXISTS r; CREATE TABLE r (id int, at timestamptz)",
            db="bench",
        )
        acked = write_then_kill(options.port, SERVER)
        killed_at = time.time()
        time.sleep(2.0)
        into = f"/restore/round-{round_}"
        controller("recover", "bench", "--to", "latest", "--into", into)
        port = free_port()
        docker(
            "run", "-d", "--name", RECOVERED, "--network", "host", "-v", f"{restore}:/restore",
            "-e", f"PGDATA={into}", "-e", "POSTGRES_PASSWORD",
            f"pg-backup-manager-test-postgres:{options.server_major}",
            "-c", f"port={port}", "-c", "listen_addresses=127.0.0.1",
        )  # fmt: skip
        wait_for(
            lambda p=port: sql(p, "SELECT pg_is_in_recovery()", check=False) == "f", "promotion"
        )
        rows = sql(port, "SELECT id, extract(epoch FROM at) FROM r ORDER BY id", db="bench")
        recovered = [(int(i), float(at)) for i, at in (r.split("|") for r in rows.splitlines())]
        docker("rm", "-f", RECOVERED)
        docker("start", SERVER)
        wait_for(lambda: sql(options.port, "select 1", check=False) == "1", "the server to restart")
        measured.append(killed_at - recovered[-1][1])
        lost.append(len(set(acked) - {i for i, _ in recovered}))
        print(
            f"RPO round {round_ + 1}: {measured[-1]:.3f} s ({len(acked)} rows acknowledged, "
            f"{len(recovered)} recovered, {lost[-1]} acknowledged rows lost)",
            flush=True,
        )
    return {
        "RPO (s)": statistics.median(measured),
        "acknowledged rows lost": statistics.median(lost),
    }


def summary(results: dict[str, float]) -> None:
    ratio = results["controller basebackup (s)"] / results["raw pg_basebackup (s)"]
    checked = results["controller basebackup (s)"] / results["raw + pg_verifybackup (s)"]
    print("\nsummary (figure, target, met):")
    for key, value in results.items():
        print(f"  {key:34} {value:8.3f}")
    verdict = "met" if ratio <= 1.1 else "NOT MET"
    print(f"  {'basebackup / raw pg_basebackup':34} {ratio:8.2f}  <= 1.10  {verdict}")
    print(f"  {'basebackup / raw + pg_verifybackup':34} {checked:8.2f}")


if __name__ == "__main__":
    main()
