"""The HTTP side of the status page's port, as raw requests see it: a request's deadline
against a client that trickles, the cap on connections, the listen backlog, HEAD without
a body, exact paths, no HTTP/0.9, and the same headers on every answer."""

from __future__ import annotations

import base64
import socket
import subprocess
import time
from pathlib import Path

import pytest

from pg_backup_manager.adapters.monitoring.web_server import (
    BACKLOG,
    CONNECTION_TIMEOUT,
    MAX_CONNECTIONS,
)

from .process import Controller
from .running import wait_until
from .servers import PgServer
from .test_status_page import cluster, get, started  # noqa: F401 (a fixture)

pytestmark = pytest.mark.integration

# How long a client waits for the server to close or answer: far past the deadline.
WAIT = 6 * CONNECTION_TIMEOUT
LOGIN = "Authorization: Basic " + base64.b64encode(b"ops:page-secret").decode()


def raw(port: int, request: bytes) -> tuple[str, dict[str, str], bytes]:
    """Send ``request`` as it is; return the status line, headers and body answered."""
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as connection:
        connection.sendall(request)
        said = b""
        while chunk := connection.recv(65536):
            said += chunk
    head, _, body = said.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines if ": " in line)
    return status, headers, body


def ask(port: int, method: str, target: str, *, login: bool = True) -> tuple[str, dict, bytes]:
    extra = f"{LOGIN}\r\n" if login else ""
    return raw(port, f"{method} {target} HTTP/1.1\r\nHost: x\r\n{extra}\r\n".encode())


def _trickle(port: int, closed: list[bool]) -> None:
    """Send half a request, then a byte every 3 s (each read well within its timeout);
    note whether the server closed the connection within ``WAIT``."""
    with socket.create_connection(("127.0.0.1", port)) as connection:
        connection.sendall(b"GET / HTTP/1.1\r\nX-Slow: ")
        connection.settimeout(3)
        end = time.monotonic() + WAIT
        while time.monotonic() < end:
            try:
                said = connection.recv(1024)
                closed.append(said == b"")  # closed without an answer, or answered
                return
            except TimeoutError:
                pass
            except OSError:
                closed.append(True)
                return
            try:
                connection.sendall(b"a")
            except OSError:
                closed.append(True)
                return
    closed.append(False)


def test_a_trickling_client_is_cut_off_and_connections_beyond_the_cap_get_503(
    controller: Controller,
    cluster: PgServer,  # noqa: F811 (the fixture imported)
) -> None:
    controller.add_database("app", cluster)

    with started(controller) as (port, _):
        wait_until(lambda: _served(port), 30, "the metrics port")
        closed: list[bool] = []
        _trickle(port, closed)
        held = [socket.create_connection(("127.0.0.1", port)) for _ in range(MAX_CONNECTIONS)]
        time.sleep(1)  # not an assertion: lets the server accept them all first
        beyond = raw(port, b"GET / HTTP/1.1\r\n\r\n")
        for connection in held:
            connection.close()
        wait_until(lambda: _served(port), WAIT, "the port once the held connections closed")
        backlog = subprocess.run(
            ["ss", "-Hltn", f"sport = :{port}"], capture_output=True, text=True, check=True
        ).stdout.split()

    assert closed == [True]
    assert beyond[0] == "HTTP/1.1 503 Service Unavailable"
    assert beyond[1]["X-Content-Type-Options"] == "nosniff"
    assert int(backlog[2]) == BACKLOG


def test_head_has_no_body_paths_are_exact_and_every_answer_has_a_status_line_and_headers(
    controller: Controller,
    cluster: PgServer,  # noqa: F811 (the fixture imported)
    tmp_path: Path,
) -> None:
    password = tmp_path / "password"
    password.write_text("page-secret")
    controller.add_database("app", cluster)
    controller.env.update(METRICS_USER="ops", METRICS_PASSWORD_FILE=str(password))

    with started(controller) as (port, _):
        wait_until(lambda: _served(port), 30, "the metrics port")
        head_401 = ask(port, "HEAD", "/", login=False)
        head_404 = ask(port, "HEAD", "/nothing")
        head_405 = ask(port, "HEAD", "/", login=False)
        odd = {
            target: ask(port, "GET", target)[0]
            for target in ("//", "//metrics", "//status.json", "/%73tatus.json", "/./metrics")
        }
        good = {
            target: ask(port, "GET", target)[0]
            for target in (
                "/status.json?x=1",
                f"http://127.0.0.1:{port}/status.json",
                f"HTTP://localhost:{port}/metrics",
                f"http://127.0.0.1:{port}",
            )
        }
        elsewhere = ask(port, "GET", f"http://127.0.0.1:{port + 1}/status.json")[0]
        page = ask(port, "GET", "/")
        old = raw(port, b"GET /\r\n")
        refused = [
            raw(port, b"GET / HTTP/9.9\r\n\r\n"),
            raw(port, b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n"),
            raw(port, b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * 200 + b"\r\n"),
            raw(port, b"NONSENSE\r\n\r\n"),
        ]
        head_refused = [
            raw(port, b"HEAD / HTTP/2.0\r\n\r\n"),
            raw(port, b"HEAD /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n"),
            raw(port, b"HEAD / HTTP/1.1 x\r\n\r\n"),
        ]
        documents = [ask(port, "GET", "/status.json"), ask(port, "GET", "/metrics")]

    assert head_401[0] == "HTTP/1.0 401 Unauthorized" and head_401[2] == b""
    assert head_404[0] == "HTTP/1.0 404 Not Found" and head_404[2] == b""
    assert int(head_404[1]["Content-Length"]) > 0 and head_405[2] == b""
    assert odd == dict.fromkeys(odd, "HTTP/1.0 404 Not Found")
    assert good == dict.fromkeys(good, "HTTP/1.0 200 OK")
    assert elsewhere == "HTTP/1.0 404 Not Found"
    assert page[1]["Server"] == "pg-backup-manager" and "Python" not in str(page[1])
    assert old[0] == "HTTP/1.1 400 Bad Request" and b"<" not in old[2]
    assert [answer[0].split(" ")[1] for answer in refused] == ["505", "414", "431", "400"]
    assert [answer[0].split(" ")[1] for answer in head_refused] == ["505", "414", "400"]
    assert [answer[2] for answer in head_refused] == [b"", b"", b""]
    for status, headers, body in [old, head_401, head_404, *refused, *head_refused, *documents]:
        assert headers["X-Content-Type-Options"] == "nosniff", status
        assert headers["Content-Security-Policy"].startswith("default-src 'none'"), status
        assert headers["Server"] == "pg-backup-manager" and b"<" not in body, status


def _served(port: int) -> bool:
    try:
        return get(port, "/status.json", auth="ops:page-secret")[0] in {200}
    except OSError:
        return False
