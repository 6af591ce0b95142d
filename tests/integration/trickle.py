"""An HTTP server on 127.0.0.1 that answers every request at a trickle.

It sends the status line and headers at once (a ``Content-Length`` it never
reaches), then one byte of body every ``every`` seconds until the block ends:
each read of a client returns within any per-read timeout, so only a deadline
on the whole exchange ends it. It records the paths it was asked for.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import attrs

from .receiver import serving


@attrs.define
class Trickle:
    """Where the trickling server listens, and the paths it was asked for, in order."""

    port: int
    paths: list[str] = attrs.field(factory=list)

    def url(self, path: str, scheme: str = "http") -> str:
        return f"{scheme}://127.0.0.1:{self.port}{path}"


@contextmanager
def trickling(every: float = 3.0) -> Iterator[Trickle]:
    """Serve at a trickle on a free loopback port for the block (see the module)."""
    done = threading.Event()
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    server.daemon_threads = True
    trickle = Trickle(port=server.server_address[1])

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            trickle.paths.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", "100000")
            self.end_headers()
            try:
                while not done.wait(every):
                    self.wfile.write(b"x")
                    self.wfile.flush()
            except OSError:
                pass  # the client gave up: what a deadline is for

        do_GET = do_POST = do_PUT = do_HEAD = _answer

        def log_message(self, *args: object) -> None:
            pass

    server.RequestHandlerClass = Handler
    with serving(server):
        try:
            yield trickle
        finally:
            done.set()  # the trickling answers end before the server does
