"""The measuring half of ``pitr.py``: runs inside the benchmark's controller container.

Started by ``pitr.py`` with ``docker exec --user postgres`` in the container whose
PID 1 is ``controller start`` (WAL archiving on for service ``bench``), so that it sees
that process and its ``pg_receivewal`` in /proc. Standard library only: the image's
system ``python3`` runs it. Prints each figure, and on its last line a JSON object of
the figures ``pitr.py`` summarises; asserts nothing.

    idle SECONDS              CPU and RSS of pg_receivewal and of controller start
    basebackup RUNS MAJOR PORT  raw pg_basebackup, + pg_verifybackup, controller basebackup
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

CONTROLLER = "/controller"
PG_BIN = Path(os.environ.get("PG_BIN_DIR", "/usr/lib/postgresql/18/bin"))
WORK = Path("/var/lib/postgresql/backup/bench-raw")
BASES = Path("/var/lib/postgresql/backup/data/bench/pitr/streams")
TICKS = os.sysconf("SC_CLK_TCK")
MIB = 1024 * 1024


def main() -> None:
    what, argument = sys.argv[1], int(sys.argv[2])
    if what == "idle":
        results = idle(argument)
    else:
        results = basebackup(argument, int(sys.argv[3]), int(sys.argv[4]))
    print(json.dumps(results))


def idle(seconds: int) -> dict[str, float]:
    """CPU (% of one core) and RSS of pg_receivewal and of the controller (PID 1, all its
    threads: scheduler, receiver supervisor, ...) over ``seconds`` of no writes."""
    receiver = only("pg_receivewal")
    before = {pid: cpu_ticks(pid) for pid in (receiver, 1)}
    threads_before = thread_ticks(1)
    time.sleep(seconds)
    used = {pid: (cpu_ticks(pid) - before[pid]) / TICKS for pid in before}
    threads = {
        name: (ticks - threads_before.get(name, 0)) / TICKS
        for name, ticks in thread_ticks(1).items()
    }
    results = {
        "receiver CPU (%)": 100 * used[receiver] / seconds,
        "receiver RSS (MiB)": rss_kib(receiver) / 1024,
        "controller CPU (%)": 100 * used[1] / seconds,
        "controller RSS (MiB)": rss_kib(1) / 1024,
    }
    print(f"idle for {seconds} s, no writes (CPU time / wall time, RSS now):")
    print(
        f"  pg_receivewal (pid {receiver})     CPU {results['receiver CPU (%)']:.3f} %, "
        f"RSS {results['receiver RSS (MiB)']:.1f} MiB"
    )
    print(f"  controller start (pid 1)   CPU {results['controller CPU (%)']:.3f} %, "
          f"RSS {results['controller RSS (MiB)']:.1f} MiB; by thread (s of CPU): "
          + ", ".join(f"{name} {s:.2f}" for name, s in sorted(threads.items())))  # fmt: skip
    return results


def basebackup(runs: int, major: int, port: int) -> dict[str, float]:
    """Raw ``pg_basebackup`` as an operator runs it by hand, the same plus the server
    major's ``pg_verifybackup``, and ``controller basebackup bench``, interleaved, ``runs``
    each."""
    raw, checked, ours = [], [], []
    options = [option.format(port=port) for option in BASEBACKUP_OPTIONS]
    size = 0
    for _ in range(runs):
        shutil.rmtree(WORK, ignore_errors=True)
        WORK.mkdir(mode=0o700)
        raw.append(timed([str(PG_BIN / "pg_basebackup"), *options, "-D", str(WORK)]))
        size = sum(f.stat().st_size for f in WORK.rglob("*") if f.is_file())
        verify = [f"/usr/lib/postgresql/{major}/bin/pg_verifybackup", str(WORK)]
        checked.append(raw[-1] + timed(verify))
        shutil.rmtree(WORK)
        kept = bases()
        ours.append(timed([CONTROLLER, "basebackup", "bench"]))
        for path in bases() - kept:  # the next run must not find a bigger volume
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
    print(f"base backup of {size / MIB:.0f} MiB, {runs} runs, medians [all samples]:")
    print(f"  raw pg_basebackup                     {fmt(raw)}")
    print(f"  raw pg_basebackup + pg_verifybackup   {fmt(checked)}")
    print(f"  controller basebackup                 {fmt(ours)}")
    return {
        "base backup size (MiB)": size / MIB,
        "raw pg_basebackup (s)": statistics.median(raw),
        "raw + pg_verifybackup (s)": statistics.median(checked),
        "controller basebackup (s)": statistics.median(ours),
    }


# An operator's own base backup of the benchmark's server: plain, its WAL streamed, at
# once; the tools' defaults otherwise (a CRC-32C manifest, every file synced), as the
# controller's (adapters/pitr/basebackup.py), which syncs the files itself.
BASEBACKUP_OPTIONS = [
    "--dbname=host=127.0.0.1 port={port} user=postgres",
    "--format=plain",
    "--wal-method=stream",
    "--checkpoint=fast",
    "--no-password",
]


def bases() -> set[Path]:
    return set(BASES.glob("*/base/*"))


def timed(argv: list[str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr[-2000:]}")
    return elapsed


def only(name: str) -> int:
    found = [int(p) for p in os.listdir("/proc") if p.isdigit() and comm(int(p)) == name]
    if len(found) != 1:
        raise SystemExit(f"{len(found)} {name} processes: {found}")
    return found[0]


def comm(pid: int, task: str = "") -> str:
    try:
        return Path(f"/proc/{pid}{task}/comm").read_text().strip()
    except OSError:
        return ""


def cpu_ticks(pid: int, task: str = "") -> int:
    """utime + stime of ``pid`` (or of one of its threads, ``task`` = /task/<tid>)."""
    fields = Path(f"/proc/{pid}{task}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def thread_ticks(pid: int) -> dict[str, int]:
    """{"<comm>/<tid>": CPU ticks} of each thread of ``pid``."""
    ticks = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        task = f"/task/{tid}"
        ticks[f"{comm(pid, task)}/{tid}"] = cpu_ticks(pid, task)
    return ticks


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def fmt(samples: list[float]) -> str:
    inner = " ".join(f"{s:.2f}" for s in samples)
    return f"{statistics.median(samples):7.2f} s [{inner}]"


if __name__ == "__main__":
    main()
