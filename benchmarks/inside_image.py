"""The measuring half of ``dump_restore_overhead.py``: runs inside the controller image.

Started by ``dump_restore_overhead.py`` as the postgres user in a container of the
controller image (host network, this folder mounted at /bench), against the
benchmark's server on 127.0.0.1. Raw tools and the controller run side by side
in this same container, with the same client tools (``PG_BIN_DIR``). Standard
library only: the image's system ``python3`` runs it. It prints every figure and
ratio and asserts nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import signal
import statistics
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

CONTROLLER = "/opt/controller/bin/controller"
CONTROLLER_PYTHON = "/opt/controller/bin/python"
PG_BIN = Path(os.environ.get("PG_BIN_DIR", "/usr/lib/postgresql/18/bin"))
PASSWORD = "bench"
# Databases of the controller: b (big), s (small), r (restore target), many (planted).
DATABASES = {"b": "bench", "s": "bench_small", "r": "bench_restored", "many": "bench_many"}
PLANTED = 10_000
MIB = 1024 * 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument(
        "--candidates",
        default="default,zstd:1,zstd:3,zstd:6,lz4,gzip:1",
        help="pg_dump --compress values timed raw ('default': no --compress, gzip)",
    )
    options = parser.parse_args()
    bench = Bench(port=str(options.port), work=options.work, runs=options.runs)
    bench.describe()
    bench.compression_and_dump([c for c in options.candidates.split(",") if c])
    bench.restore()
    bench.planted_commands()
    bench.help_and_scheduler()
    bench.dump_peak_rss()
    bench.summary()


class Bench:
    """The measurements, in the order they run, and the figures they leave."""

    def __init__(self, *, port: str, work: Path, runs: int) -> None:
        self.port, self.work, self.runs = port, work, runs
        self.raw_env = {"PATH": "/usr/bin:/bin", "PGPASSWORD": PASSWORD, "LANG": "C.UTF-8"}
        self.env = {
            **self.raw_env,
            "TZ": "UTC",
            "HOME": str(work),
            "DATABASE_LIST": ",".join(DATABASES),
        }
        for identifier, dbname in DATABASES.items():
            prefix = identifier.upper()
            self.env |= {
                f"{prefix}_POSTGRES_HOST": "127.0.0.1",
                f"{prefix}_POSTGRES_PORT": port,
                f"{prefix}_POSTGRES_PASSWORD": PASSWORD,
                f"{prefix}_POSTGRES_DB": dbname,
            }
        if "PG_BIN_DIR" in os.environ:
            self.env["PG_BIN_DIR"] = os.environ["PG_BIN_DIR"]
        self.backups = work / "backup-data" / "data"
        self.default = controller_default_compression()
        self.results: dict[str, float] = {}

    # --- helpers -----------------------------------------------------------------

    def server(self) -> list[str]:
        """The connection options of the raw tools: the benchmark's server, as postgres."""
        return ["-h", "127.0.0.1", "-p", self.port, "-U", "postgres"]

    def psql(self, sql: str, db: str = "postgres") -> str:
        argv = [
            str(PG_BIN / "psql"),
            "-X",
            "-q",
            "-At",
            "-v",
            "ON_ERROR_STOP=1",
            *self.server(),
            "-d",
            db,
            "-c",
            sql,
        ]
        done = subprocess.run(argv, env=self.raw_env, check=True, capture_output=True, text=True)
        return done.stdout.strip()

    def pg_dump(self, target: Path, compression: str, db: str = "bench") -> list[str]:
        compress = [] if compression == "default" else [f"--compress={compression}"]
        return [
            str(PG_BIN / "pg_dump"),
            "-Fc",
            *compress,
            *self.server(),
            "-f",
            str(target),
            db,
        ]

    def timed(self, argv: Sequence[str], *, controller: bool = False) -> float:
        env = self.env if controller else self.raw_env
        started = time.perf_counter()
        done = subprocess.run(argv, env=env, cwd=self.work, capture_output=True)
        elapsed = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(
                f"{' '.join(argv)} failed ({done.returncode}): "
                f"{done.stderr.decode(errors='replace')[-2000:]}"
            )
        return elapsed

    def newest(self, identifier: str) -> Path:
        return sorted((self.backups / identifier).glob("file_*.dump"))[-1]

    def drop_old_backups(self, identifier: str) -> None:
        for old in sorted((self.backups / identifier).glob("file_*.dump"))[:-1]:
            old.unlink()
            old.with_name(old.name + ".sha256").unlink(missing_ok=True)

    # --- measurements -----------------------------------------------------------

    def describe(self) -> None:
        tools = subprocess.run(
            [str(PG_BIN / "pg_dump"), "--version"], capture_output=True, text=True, check=True
        ).stdout.strip()
        server = self.psql("SHOW server_version")
        size = int(self.psql("SELECT pg_database_size('bench')"))
        small = int(self.psql("SELECT pg_database_size('bench_small')"))
        cpus = os.cpu_count()
        print(f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {cpus} CPUs; {mem_total()}")
        print(f"client tools: {tools} ({PG_BIN}); server: PostgreSQL {server} on port {self.port}")
        print(
            f"databases: bench {size / MIB:.0f} MiB, bench_small {small / MIB:.0f} MiB; "
            f"{self.runs} runs each, medians (all samples in brackets)"
        )
        print(
            f"controller default compression: {self.default}; "
            f"RESTORE_JOBS default: {min(cpus or 1, 4)}"
        )
        print()

    def compression_and_dump(self, candidates: list[str]) -> None:
        """Raw pg_dump with each candidate compression, then controller dump, interleaved."""
        if self.default not in candidates:
            candidates.append(self.default)
        times: dict[str, list[float]] = {c: [] for c in candidates}
        sizes: dict[str, int] = {}
        ours: list[float] = []
        readback: list[float] = []
        globals_: list[float] = []
        for run in range(self.runs):
            for candidate in candidates:
                target = self.work / f"raw-{run}.dump"
                times[candidate].append(self.timed(self.pg_dump(target, candidate)))
                sizes[candidate] = target.stat().st_size
                if candidate == self.default:
                    readback.append(self.check_alone(target))
                target.unlink()
            globals_.append(self.timed(self.pg_dumpall(self.work / "globals.sql")))
            ours.append(self.timed([CONTROLLER, "dump", "b"], controller=True))
            self.drop_old_backups("b")
        archive = self.newest("b").stat().st_size
        print("raw pg_dump -Fc by compression (time, archive size):")
        for candidate in candidates:
            label = "default (gzip)" if candidate == "default" else candidate
            print(f"  {label:16} {fmt(times[candidate])}  {sizes[candidate] / MIB:8.1f} MiB")
        print(
            f"read-back alone (pg_restore -f /dev/null + SHA-256, {self.default} archive): "
            f"{fmt(readback)}"
        )
        print(f"raw pg_dumpall --globals-only (the controller saves it too): {fmt(globals_)}")
        print(f"controller dump ({self.default}, checked and hashed, globals saved):")
        print(f"  as the image ships it            {fmt(ours)}  {archive / MIB:8.1f} MiB")
        mine = statistics.median(ours)
        self.results["dump / raw default"] = mine / statistics.median(times["default"])
        self.results["dump / raw same compression"] = mine / statistics.median(times[self.default])
        self.results["dump over raw, same compression (s)"] = mine - statistics.median(
            times[self.default]
        )
        print()

    def pg_dumpall(self, target: Path) -> list[str]:
        return [
            str(PG_BIN / "pg_dumpall"),
            "--globals-only",
            *self.server(),
            "-f",
            str(target),
        ]

    def check_alone(self, archive: Path) -> float:
        """Time the controller's check alone: pg_restore reads, this process hashes, at once."""
        started = time.perf_counter()
        reader = subprocess.Popen([str(PG_BIN / "pg_restore"), "-f", "/dev/null", str(archive)])
        with open(archive, "rb") as source:
            hashlib.file_digest(source, "sha256")
        if reader.wait() != 0:
            raise SystemExit(f"pg_restore cannot read {archive}")
        return time.perf_counter() - started

    def restore(self) -> None:
        """Raw single-stream pg_restore of the controller's archive against controller restore."""
        archive = self.newest("b")
        target = self.backups / "r"
        target.mkdir(parents=True, exist_ok=True)
        os.chmod(target, 0o700)
        for old in target.iterdir():
            old.unlink()
        os.link(archive, target / archive.name)
        os.link(archive.with_name(archive.name + ".sha256"), target / (archive.name + ".sha256"))
        self.psql("DROP DATABASE IF EXISTS bench_restored WITH (FORCE)")
        self.psql("CREATE DATABASE bench_restored TEMPLATE template0")
        raw, ours = [], []
        for _ in range(self.runs):
            self.psql("DROP DATABASE IF EXISTS bench_raw WITH (FORCE)")
            self.psql("CREATE DATABASE bench_raw TEMPLATE template0")
            raw.append(
                self.timed(
                    [
                        str(PG_BIN / "pg_restore"),
                        "--exit-on-error",
                        *self.server(),
                        "-d",
                        "bench_raw",
                        str(archive),
                    ]
                )
            )
            self.psql("DROP DATABASE bench_raw WITH (FORCE)")
            ours.append(
                self.timed(
                    [CONTROLLER, "restore", "r", archive.name, "--no-safety-dump"], controller=True
                )
            )
        print("restore of the controller's archive into a new database:")
        print(f"  raw pg_restore (one stream)          {fmt(raw)}")
        print(
            f"  controller restore --no-safety-dump  {fmt(ours)}  "
            "(checksum, scratch database, swap, old one dropped)"
        )
        self.results["restore / raw single stream"] = statistics.median(ours) / statistics.median(
            raw
        )
        self.psql("DROP DATABASE IF EXISTS bench_restored WITH (FORCE)")
        print()

    def planted_commands(self) -> None:
        """list and prune --dry-run over PLANTED empty backups with their checksum files."""
        directory = self.backups / "many"
        directory.mkdir(parents=True, exist_ok=True)
        os.chmod(directory, 0o700)
        start = datetime(2020, 1, 1, 3, tzinfo=UTC)
        digest = hashlib.sha256(b"").hexdigest()
        for n in range(PLANTED):
            at = start + timedelta(hours=6 * n)
            tier = "monthly" if at.day == 1 else "weekly" if at.weekday() == 5 else "daily"
            name = f"file_{tier}_{at:%Y-%m-%dT%H:%M:%SZ}.dump"
            (directory / name).touch()
            (directory / f"{name}.sha256").write_text(f"{digest}  {name}\n")
        listed = subprocess.run(
            [CONTROLLER, "list", "many"],
            env=self.env,
            cwd=self.work,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        lines = sum(1 for line in listed.splitlines() if "file_" in line)
        print(f"over {PLANTED} planted backups (empty files with .sha256; list shows {lines}):")
        for label, argv in (
            ("list", [CONTROLLER, "list", "many"]),
            ("prune --dry-run", [CONTROLLER, "prune", "many", "--dry-run"]),
        ):
            shipped = [self.timed(argv, controller=True) for _ in range(self.runs)]
            command = "controller " + " ".join(argv[1:])
            print(f"  {command:36} {fmt(shipped)}")
            self.results[f"{label} (s)"] = statistics.median(shipped)
        print()

    def help_and_scheduler(self) -> None:
        helps = [self.timed([CONTROLLER, "--help"], controller=True) for _ in range(self.runs)]
        print(f"controller --help                      {fmt(helps)}")
        self.results["--help (s)"] = statistics.median(helps)
        env = {
            **self.env,
            "BACKUP_SCHEDULE": "0 3 1 1 *",
            "MODE": "production",
            "HEARTBEAT_FILE": str(self.work / "heartbeat"),
        }
        scheduler = subprocess.Popen(
            [CONTROLLER, "start"],
            env=env,
            cwd=self.work,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(5)
        tree = process_tree(scheduler.pid)
        rss = sum(status_kib(pid, "VmRSS") for pid in tree) / 1024
        hwm = sum(status_kib(pid, "VmHWM") for pid in tree) / 1024
        alive = scheduler.poll() is None
        scheduler.send_signal(signal.SIGTERM)
        scheduler.wait(30)
        print(
            f"scheduler idle (controller start, 5 s in, {len(tree)} process(es), "
            f"{'running' if alive else 'EXITED'}): RSS {rss:.1f} MiB, peak (VmHWM) {hwm:.1f} MiB"
        )
        self.results["scheduler idle RSS (MiB)"] = rss
        print()

    def dump_peak_rss(self) -> None:
        """Peak memory of controller dump and its children, small database against big one."""
        print(
            "peak RSS of controller dump (controller + pg_dump + pg_restore, sampled every 5 ms):"
        )
        for identifier, dbname in (("s", "bench_small"), ("b", "bench")):
            size = int(self.psql(f"SELECT pg_database_size('{dbname}')")) / MIB
            peak = measure_peak([CONTROLLER, "dump", identifier], env=self.env, cwd=self.work)
            per = ", ".join(
                f"{name} {kib / 1024:.1f}" for name, kib in sorted(peak.per_name.items())
            )
            print(
                f"  {dbname:12} {size:6.0f} MiB: tree {peak.tree_kib / 1024:6.1f} MiB "
                f"(per program VmHWM, MiB: {per})"
            )
            self.results[f"dump peak RSS {dbname} (MiB)"] = peak.tree_kib / 1024
            self.drop_old_backups(identifier)
        print()

    def summary(self) -> None:
        targets: dict[str, tuple[str, Callable[[float], bool]]] = {
            "dump / raw default": ("<= 0.70", lambda v: v <= 0.70),
            "dump / raw same compression": ("<= 1.15", lambda v: v <= 1.15),
            "restore / raw single stream": ("<= 1.00", lambda v: v <= 1.00),
            "dump over raw, same compression (s)": ("< 0.30", lambda v: v < 0.30),
            "list (s)": ("< 0.25", lambda v: v < 0.25),
            "prune --dry-run (s)": ("< 0.25", lambda v: v < 0.25),
            "--help (s)": ("< 0.20", lambda v: v < 0.20),
            "scheduler idle RSS (MiB)": ("< 50", lambda v: v < 50),
        }
        print("summary (figure, target, met):")
        for key, value in self.results.items():
            target, met = targets.get(key, ("", lambda v: True))
            verdict = ("met" if met(value) else "NOT MET") if target else ""
            print(f"  {key:34} {value:7.2f}  {target:8} {verdict}")


class Peak:
    def __init__(self) -> None:
        self.tree_kib = 0
        self.per_name: dict[str, int] = {}


def measure_peak(argv: Sequence[str], *, env: dict[str, str], cwd: Path) -> Peak:
    """Run ``argv``; return the peak of its process tree's summed RSS, and each program's
    own peak (VmHWM, the largest of its processes)."""
    peak = Peak()
    hwm: dict[int, tuple[str, int]] = {}
    process = subprocess.Popen(
        argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            total = 0
            for pid in process_tree(process.pid):
                rss = status_kib(pid, "VmRSS")
                total += rss
                name = program(pid)
                if name:
                    hwm[pid] = (name, max(hwm.get(pid, (name, 0))[1], status_kib(pid, "VmHWM")))
            peak.tree_kib = max(peak.tree_kib, total)
            time.sleep(0.005)

    sampler = threading.Thread(target=sample)
    sampler.start()
    _, errors = process.communicate()
    done.set()
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {errors.decode(errors='replace')}")
    for name, kib in hwm.values():
        peak.per_name[name] = max(peak.per_name.get(name, 0), kib)
    return peak


def process_tree(root: int) -> list[int]:
    """Return ``root`` and its descendants alive now (this PID namespace)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            parents.setdefault(ppid, []).append(int(entry))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(parents.get(pid, []))
    return tree


def status_kib(pid: int, field: str) -> int:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    found = re.search(rf"^{field}:\s+(\d+) kB", text, re.MULTILINE)
    return int(found.group(1)) if found else 0


def program(pid: int) -> str:
    try:
        name = Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""
    return "controller" if name.startswith(("python", "controller")) else name


def mem_total() -> str:
    found = re.search(r"MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text())
    return f"{int(found.group(1)) / MIB:.0f} GiB RAM" if found else "RAM unknown"


def controller_default_compression() -> str:
    """Return the ``--compress`` value the controller passes when BACKUP_COMPRESSION is unset."""
    code = (
        "from pg_backup_manager.adapters.postgres import pg_dump as p; "
        "print(getattr(p, 'DEFAULT_COMPRESSION', 'zstd'))"
    )
    done = subprocess.run(
        [CONTROLLER_PYTHON, "-c", code], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def fmt(samples: Sequence[float]) -> str:
    inner = " ".join(f"{s:.2f}" for s in samples)
    return f"{statistics.median(samples):7.2f} s [{inner}]"


if __name__ == "__main__":
    main()
