"""The HTTP server of ``METRICS_PORT``: a thread per connection, at most
``MAX_CONNECTIONS`` at once, each request read within ``CONNECTION_TIMEOUT`` of its
connection's accept.

A client may send its request a byte at a time: each read has a timeout, but so has the
whole request (its line and headers), so such a client is cut off when the request's
time is up, never held. Connections beyond the cap get ``503`` at once and are closed,
so a flood of them holds a bounded number of threads. Every answer of the server itself
(400, 414, 431, 501, 503, 505) has a status line and the headers of every answer (no
HTTP/0.9: a request without a version gets a 400 with a status line). Nothing of a
request is logged.
"""

from __future__ import annotations

import io
import logging
import socket
import threading
import time
from http import HTTPStatus
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from pg_backup_manager.adapters.monitoring.web import SERVER, TARGET, App, plain_headers

log = logging.getLogger(__name__)
# Seconds a connection has to send its whole request (from its accept), and for each part
# of the answer it reads.
CONNECTION_TIMEOUT = 10.0
MAX_CONNECTIONS = 32  # served at once; the others are answered 503 and closed
BACKLOG = 128  # connections the kernel queues before the server accepts them


class _Deadline(io.RawIOBase):
    """A connection's reads, each with the time left until ``deadline`` (monotonic) as
    its timeout: past it, a read raises ``TimeoutError``."""

    def __init__(self, connection: socket.socket, deadline: float) -> None:
        self._connection = connection
        self._deadline = deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the request took too long")
        self._connection.settimeout(min(left, CONNECTION_TIMEOUT))
        try:
            return self._connection.recv_into(buffer)
        finally:
            self._connection.settimeout(CONNECTION_TIMEOUT)


def _refusal(status: HTTPStatus, command: str = "") -> bytes:
    """Return the whole answer ``status`` (its status line, headers and, but to HEAD,
    its short text), as the server sends it. A 503 at the accept, whose request is never
    read, is sent as to HEAD: no body, whatever the method was."""
    body = b"" if command.upper() == "HEAD" else f"{status.value} {status.phrase}\n".encode()
    headers = plain_headers(body, [("Connection", "close")])
    head = f"HTTP/1.1 {status.value} {status.phrase}\r\n" + "".join(
        f"{name}: {value}\r\n" for name, value in headers
    )
    return head.encode("latin-1") + b"\r\n" + body


class _Handler(WSGIRequestHandler):
    """One request per connection, read within its deadline; nothing of it is logged."""

    timeout = CONNECTION_TIMEOUT
    server_version = SERVER
    sys_version = ""

    def setup(self) -> None:
        super().setup()
        deadline = time.monotonic() + CONNECTION_TIMEOUT
        self.rfile = io.BufferedReader(_Deadline(self.connection, deadline))

    def parse_request(self) -> bool:
        # HTTP/0.9 (no version) would be answered without a status line or any header.
        words = bytes(getattr(self, "raw_requestline", b"")).split()
        if len(words) == 2:
            self.send_error(HTTPStatus.BAD_REQUEST)
            return False
        return super().parse_request()

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Answer ``code`` with a status line and the headers of every answer (never
        Python's HTML), and close the connection. The method is the request line's first
        word, as sent: the request may be refused before it is parsed."""
        self.close_connection = True
        words = bytes(getattr(self, "raw_requestline", b"")).split(maxsplit=1)
        command = words[0].decode("latin-1") if words else ""
        self.wfile.write(_refusal(HTTPStatus(code), command))

    def get_environ(self) -> dict[str, Any]:
        environ = super().get_environ()
        words = self.requestline.split()
        environ[TARGET] = words[1] if len(words) > 1 else ""
        return environ

    def log_message(self, format: str, *args: Any) -> None:
        """Log nothing."""


class _Server(ThreadingMixIn, WSGIServer):
    """A thread per connection, ``MAX_CONNECTIONS`` at most; threads that never end do
    not keep the process."""

    daemon_threads = True
    request_queue_size = BACKLOG

    def server_activate(self) -> None:
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        super().server_activate()

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            try:
                request.settimeout(0)
                request.send(_refusal(HTTPStatus.SERVICE_UNAVAILABLE, "HEAD"))
            except OSError:
                pass  # its buffer is full or it is gone: it is closed all the same
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out or went away: its own thread ends, nothing else.
        log.debug("a connection from %s ended early", client_address[0])


def serve(address: str, port: int, app: App) -> None:
    """Serve ``app`` on ``address``:``port`` (IPv4 or IPv6) from a daemon thread.

    Raises:
        OSError: the port cannot be opened.
    """

    class Server(_Server):
        address_family = socket.AF_INET6 if ":" in address else socket.AF_INET

    server = make_server(address, port, app, server_class=Server, handler_class=_Handler)
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
