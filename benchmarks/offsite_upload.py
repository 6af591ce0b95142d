"""Time ``controller sync`` against a raw upload of the same archive, and print every figure.

Run as root on the test machine, from the repository root, with the test virtualenv
(``./scripts/test`` makes it; it has boto3 and ``weed``; ``age`` and ``time`` come from
Debian):

    .venv/bin/python benchmarks/offsite_upload.py [--runs 3] [--sizes 64,512]

It starts its own SeaweedFS (ports 30330-30335 of loopback, S3 authentication on) and,
for each size (MiB of random bytes: nothing compresses), plants one backup and times,
runs interleaved, medians of ``--runs``, each into a new prefix:

- raw: boto3's ``upload_file`` of the archive, with the controller's transfer settings;
- ``controller sync`` (plain): checks, companions, upload, HEAD confirmation;
- raw encrypted: ``age --encrypt`` piped into boto3's ``upload_fileobj``;
- ``controller sync`` with ``ENCRYPTION_RECIPIENTS``.

It prints the times, the ratios, and the peak RSS of each ``controller sync`` process
(with its children, age included): the same at every size when memory does not grow
with the archive. It asserts nothing.
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
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.integration.age_keys import new_key_pair  # noqa: E402
from tests.integration.s3 import (  # noqa: E402
    S3Server,
    SeaweedFSPorts,
    start_seaweedfs,
    write_random,
)

NAME = "file_daily_2024-07-03T03:00:00Z.dump"
CONTROLLER = Path(sys.executable).parent / "controller"
TIME = "/usr/bin/time"  # GNU time (Debian's package time)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sizes", default="64,512", help="archive sizes in MiB")
    parser.add_argument("--first-port", type=int, default=30330)
    options = parser.parse_args()
    sizes = [int(size) for size in options.sizes.split(",")]

    work = Path(tempfile.mkdtemp(prefix="offsite-bench-", dir="/var/tmp"))
    try:
        os.chmod(work, 0o755)
        public = age_key(work)
        (work / "seaweedfs").mkdir()
        with start_seaweedfs(work / "seaweedfs", SeaweedFSPorts(first=options.first_port)) as s3:
            for size in sizes:
                bench_size(s3, work, size, options.runs, public)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def bench_size(s3: S3Server, work: Path, size_mib: int, runs: int, public: str) -> None:
    controller_dir = work / f"controller-{size_mib}"
    backups = controller_dir / "backup-data" / "data" / "a"
    backups.mkdir(parents=True)
    archive = backups / NAME
    digest = write_random(archive, size_mib)
    (backups / f"{NAME}.sha256").write_text(f"{digest}  {NAME}\n")
    subprocess.run(["chown", "-R", "postgres:postgres", str(controller_dir)], check=True)

    timings: dict[str, list[float]] = {key: [] for key in ("raw", "sync", "raw_age", "sync_age")}
    peaks: dict[str, list[int]] = {"sync": [], "sync_age": []}
    for _ in range(runs):
        timings["raw"].append(raw_upload(s3, archive, encrypt_to=None))
        seconds, peak = controller_sync(s3, controller_dir, recipients=None)
        timings["sync"].append(seconds)
        peaks["sync"].append(peak)
        timings["raw_age"].append(raw_upload(s3, archive, encrypt_to=public))
        seconds, peak = controller_sync(s3, controller_dir, recipients=public)
        timings["sync_age"].append(seconds)
        peaks["sync_age"].append(peak)

    median = {key: statistics.median(values) for key, values in timings.items()}
    print(f"\n== {size_mib} MiB archive, median of {runs} runs")
    print(f"raw upload_file                {median['raw']:7.2f} s")
    print(
        f"controller sync                {median['sync']:7.2f} s   "
        f"ratio {median['sync'] / median['raw']:.2f}   peak RSS {max(peaks['sync']) // 1024} MiB"
    )
    print(f"raw age | upload_fileobj       {median['raw_age']:7.2f} s")
    print(
        f"controller sync, encrypted     {median['sync_age']:7.2f} s   "
        f"ratio {median['sync_age'] / median['raw_age']:.2f}   "
        f"peak RSS {max(peaks['sync_age']) // 1024} MiB"
    )


def age_key(work: Path) -> str:
    return new_key_pair(work / "identity.txt")


def raw_upload(s3: S3Server, archive: Path, *, encrypt_to: str | None) -> float:
    """Upload ``archive`` with boto3 alone (through age when ``encrypt_to``); return seconds."""
    from pg_backup_manager.adapters.offsite.s3.bucket import TRANSFER

    client = s3.client()
    key = f"bench-raw-{uuid.uuid4().hex[:12]}/a/{NAME}"
    started = time.monotonic()
    if encrypt_to is None:
        client.upload_file(str(archive), s3.bucket, key, Config=TRANSFER)
    else:
        with subprocess.Popen(
            ["age", "--encrypt", "--recipient", encrypt_to, str(archive)], stdout=subprocess.PIPE
        ) as age:
            assert age.stdout is not None
            client.upload_fileobj(age.stdout, s3.bucket, key, Config=TRANSFER)
        if age.returncode != 0:
            raise SystemExit(f"age failed: exit {age.returncode}")
    return time.monotonic() - started


def controller_sync(s3: S3Server, workdir: Path, *, recipients: str | None) -> tuple[float, int]:
    """Run ``controller sync a`` into a new prefix; return its seconds and peak RSS (KiB)."""
    env = {
        "PATH": f"{CONTROLLER.parent}:/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "TZ": "UTC",
        "HOME": str(workdir),
        "DATABASE_LIST": "a",
        **s3.environ(f"bench-{uuid.uuid4().hex[:12]}"),
    }
    if recipients is not None:
        env["ENCRYPTION_RECIPIENTS"] = recipients
    started = time.monotonic()
    # GNU time forks the controller from its own small process: a child forked from this
    # one would start its peak RSS from this process's, which the raw uploads grew.
    completed = subprocess.run(
        [TIME, "-f", "%M", str(CONTROLLER), "sync", "a"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.monotonic() - started
    if completed.returncode != 0 or "1 uploaded" not in completed.stdout:
        raise SystemExit(f"controller sync failed: {completed.stdout}{completed.stderr}")
    peak_kib = int(completed.stderr.strip().splitlines()[-1])
    return seconds, peak_kib  # of the controller and the children it reaped (age)


if __name__ == "__main__":
    main()
