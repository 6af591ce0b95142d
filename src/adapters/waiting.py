"""Waiting for a program the controller started to end, woken the moment it does.

``Popen.wait(timeout)`` polls, sleeping up to 50 ms between looks: each tool that
ends is seen up to 50 ms late, and a dump runs five of them one after the other.
"""

from __future__ import annotations

import math
import os
import select
import subprocess


def wait_for(process: subprocess.Popen[bytes], timeout: float) -> int:
    """Wait at most ``timeout`` seconds for ``process`` to end; return its exit code.

    A pidfd wakes this thread the moment it ends (``Popen.wait`` polls, and sees an
    end up to 50 ms late); a stop signal interrupts the wait.

    Raises:
        subprocess.TimeoutExpired: ``timeout`` passed first (the process runs on).
    """
    try:
        pidfd = os.pidfd_open(process.pid)
    except (AttributeError, OSError):  # no pidfd here, or reaped already: Popen polls
        return process.wait(timeout)
    try:
        ended = select.poll()
        ended.register(pidfd, select.POLLIN)
        if not ended.poll(math.ceil(timeout * 1000)):
            raise subprocess.TimeoutExpired(process.args, timeout)
    finally:
        os.close(pidfd)
    return process.wait()
