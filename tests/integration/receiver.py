"""A small HTTP server on 127.0.0.1 that records every request it gets (webhooks, pings),
and a scrape of the controller's metrics."""

from __future__ import annotations

import random
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import attrs


@attrs.frozen
class Request:
    method: str
    path: str
    body: str


@attrs.define
class Receiver:
    """What the server received, in order, and where it listens."""

    port: int
    requests: list[Request] = attrs.field(factory=list)

    def url(self, path: str, scheme: str = "http") -> str:
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def paths(self) -> list[str]:
        return [request.path for request in list(self.requests)]


@contextmanager
def receiving() -> Iterator[Receiver]:
    """Serve on a free loopback port for the block; every request is answered 200."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    receiver = Receiver(port=server.server_address[1])

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode(errors="replace") if length else ""
            receiver.requests.append(Request(self.command, self.path, body))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"OK")

        do_GET = do_POST = _answer

        def log_message(self, *args: object) -> None:
            pass

    server.RequestHandlerClass = Handler
    with serving(server):
        yield receiver


@contextmanager
def serving(server: ThreadingHTTPServer) -> Iterator[None]:
    """Serve ``server`` from a daemon thread for the ``with`` block, then close it."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


def free_port() -> int:
    """Return a TCP port of 127.0.0.1 that nothing listens on now.

    Taken below the kernel's ephemeral range (from 32768), where the test
    servers' fixed ports are (55432 and up): the kernel's own choice could be one
    that a server of another suite is about to take.
    """
    for port in random.sample(range(20000, 30000), 200):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port of 127.0.0.1 between 20000 and 30000")


def scrape_metrics(port: int) -> str:
    """Return what ``/metrics`` on 127.0.0.1:``port`` answers, waiting up to 30 s for the
    controller to serve it; raises OSError past that."""
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as got:
                return str(got.read().decode())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
