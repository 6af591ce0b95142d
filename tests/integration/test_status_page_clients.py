"""Clients that hold a connection to the status page's port and send nothing, or half a
request: the server closes each once its per-connection timeout passes, and meanwhile
the scheduler runs its backups and other clients are served."""

from __future__ import annotations

import json
import socket
import threading
from pathlib import Path

import attrs
import pytest

from pg_backup_manager.adapters.monitoring.web_server import CONNECTION_TIMEOUT

from .process import Controller
from .running import wait_until
from .servers import PgServer
from .test_status_page import _root, cluster, get, started  # noqa: F401 (a fixture)

pytestmark = pytest.mark.integration

PESTS = 4  # connections held at all times, each sending nothing or half a request
# How long a held connection waits for the server to close it: far past its timeout.
CLOSED_WITHIN = 6 * CONNECTION_TIMEOUT


@attrs.define
class Pests:
    """Holds ``PESTS`` connections open at all times until stopped: each, once connected,
    sends nothing (even ones) or a request line and a header without the blank line that
    ends them (odd ones), then waits for the server to close it; a closed one is replaced."""

    port: int
    closed_by_server: int = 0
    # Still open CLOSED_WITHIN after it was opened, or answered half a request: neither may be.
    misbehaved: int = 0
    stopping: threading.Event = attrs.field(factory=threading.Event)
    threads: list[threading.Thread] = attrs.field(factory=list)

    def __enter__(self) -> Pests:
        for index in range(PESTS):
            thread = threading.Thread(target=self._hold, args=(index,), daemon=True)
            thread.start()
            self.threads.append(thread)
        return self

    def __exit__(self, *_: object) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(CLOSED_WITHIN + 5)

    def _hold(self, index: int) -> None:
        while not self.stopping.is_set():
            with socket.create_connection(("127.0.0.1", self.port)) as connection:
                if index % 2:
                    connection.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                connection.settimeout(CLOSED_WITHIN)
                try:
                    said = connection.recv(1024)
                except ConnectionResetError:
                    said = b""
                except TimeoutError:
                    self.misbehaved += 1
                    continue
                if said == b"":
                    self.closed_by_server += 1
                else:  # the server answered half a request: it must not
                    self.misbehaved += 1


def test_held_connections_are_closed_after_their_timeout_while_runs_and_requests_go_on(
    controller: Controller,
    cluster: PgServer,  # noqa: F811 (the fixture imported)
) -> None:
    controller.add_database("app", cluster)
    controller.env.update(BACKUP_SCHEDULE="* * * * *")  # a run each minute
    history = _root(controller) / "backup" / "data" / "app" / "history.jsonl"

    with started(controller) as (port, _):
        wait_until(lambda: _served(port), 30, "the metrics port")
        with Pests(port) as pests:
            wait_until(lambda: _scheduled_runs(history) >= 1, 180, "a scheduled run")
            served = [get(port, path)[0] for path in ("/", "/status.json", "/metrics")]
            wait_until(lambda: pests.closed_by_server >= PESTS, 2 * CLOSED_WITHIN, "closings")
            after = get(port, "/")[0]

    assert pests.misbehaved == 0 and pests.closed_by_server >= PESTS
    assert served == [200, 200, 200] and after == 200
    assert _scheduled_runs(history) >= 1


def _served(port: int) -> bool:
    try:
        return get(port, "/")[0] == 200
    except OSError:
        return False


def _scheduled_runs(history: Path) -> int:
    try:
        lines = history.read_text().splitlines()
    except FileNotFoundError:
        return 0
    return sum(
        json.loads(line).get("operation") == "scheduled"
        and json.loads(line).get("outcome") == "success"
        for line in lines
    )
