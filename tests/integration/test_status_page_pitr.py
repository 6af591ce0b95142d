"""The status page of a real ``controller start`` with WAL archiving on, against a
throwaway PostgreSQL 15 cluster of this host: the WAL receiver's state and the
recoverable window in the row, the window as a band in the charts, and the receiver
down once its server is gone. Read over HTTP (the browser test shows the page itself)."""

from __future__ import annotations

import re
from datetime import datetime
from html import unescape
from pathlib import Path

from .pitr_cluster import archive
from .process import Controller
from .receiver import free_port
from .regression_db import HostServer
from .running import spawn, stop, wait_until
from .test_pitr_monitoring import (  # noqa: F401 (cluster: a fixture)
    cluster,
    pitr_of,
    window_to_the_newest_wal,
)
from .test_status_page import get


def recovery(port: int) -> str:
    """Return the text of the row's Recovery cell of the page (tags dropped)."""
    code, _, body = get(port, "/")
    assert code == 200
    [cell] = re.findall(r'<td data-label="Recovery">(.*?)</td>', body.decode(), flags=re.S)
    return unescape(re.sub(r"<br>", "\n", re.sub(r"<(?!br)[^>]*>", "", cell)))


def test_the_page_shows_the_receiver_and_the_recoverable_window_and_then_the_receiver_down(
    controller: Controller,
    cluster: HostServer,  # noqa: F811 (the fixture imported)
    tmp_path: Path,
) -> None:
    root = tmp_path / "var-lib-postgresql"
    (root / "backup" / "data").mkdir(parents=True)
    port = free_port()
    archive(controller, cluster).env.update(
        MODE="production",
        BACKUP_SCHEDULE="0 0 1 1 *",  # no dump during the test: only WAL
        WAL_MAX_DELAY="5",
        METRICS_PORT=str(port),
    )
    process = spawn(controller, "start", namespace_root=root)
    try:
        window_to_the_newest_wal(controller, root, cluster)
        up = recovery(port)
        said = pitr_of(controller, root)
        _, _, page = get(port, "/")

        cluster.stop()
        wait_until(lambda: "receiver: down since" in recovery(port), 90, "the receiver down")
        wait_until(lambda: recovery(port).startswith("at fault"), 60, "the fault")
        down = recovery(port)
        cluster.start()  # the fixture stops it
    finally:
        code, _, err = stop(process)

    assert code == 0, err
    assert up.startswith("ok\nreceiver: receiving since "), up
    [(start, end)] = re.findall(r"recoverable (\S+) to (\S+)", up)
    shown = _moment(start) - _moment(str(said["window_start_at"]))
    assert abs(shown.total_seconds()) < 0.001, (said, up)  # the same start, to the ms
    assert _moment(end) >= _moment(start)
    assert page.decode().count('<rect class="window"') == 2  # in both charts
    assert "recoverable windows shaded" in page.decode()
    assert "receiver: down since " in down and "recoverable " in down, down


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
