"""Small disks: a tmpfs that fills up after a few kilobytes, for the tests of a full disk."""

from __future__ import annotations

import pwd
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def tiny_tmpfs(directory: Path, size: str) -> Iterator[Path]:
    """Mounts a tmpfs of ``size`` (``mount``'s notation: ``64k``) on ``directory``.

    The tmpfs's root is postgres's, mode 0755, as a backup directory is. Yields
    ``directory``; unmounts it (lazily) on exit. ``directory`` must exist.
    Raises CalledProcessError when the mount fails.
    """
    postgres = pwd.getpwnam("postgres")
    subprocess.run(
        [
            "mount",
            "-t",
            "tmpfs",
            "-o",
            f"size={size},mode=0755,uid={postgres.pw_uid},gid={postgres.pw_gid}",
            "tmpfs",
            str(directory),
        ],
        check=True,
        timeout=30,
    )
    try:
        yield directory
    finally:
        subprocess.run(["umount", "-l", str(directory)], check=False, timeout=30)
