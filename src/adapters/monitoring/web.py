"""The HTTP side of ``controller start`` with ``METRICS_PORT``: ``/`` (the status page),
``/status.json`` and ``/metrics``, read-only.

GET and HEAD only (405 with ``Allow`` otherwise, whatever the path), 404 for any
other path; with ``METRICS_USER``/``METRICS_PASSWORD``, every answer but 401 needs
them (basic auth, compared in constant time). Each connection has a thread of its
own and a timeout, so a client that sends nothing, or reads slowly, holds only its
own thread for that long: never the scheduler, never another client. Nothing of a
request is logged: a request line may carry anything.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import socket
from collections.abc import Callable, Iterable, Mapping
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import attrs

log = logging.getLogger(__name__)
# Seconds a connection may take to send its request, or to read each part of the answer.
CONNECTION_TIMEOUT = 10.0
ALLOWED = "GET, HEAD"
# The Content-Security-Policy of the status page: nothing but its inline style and its
# data: icon may load, no script runs, no form posts, no other site frames it.
POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
REALM = 'Basic realm="pg_backup_manager", charset="UTF-8"'
_COMMON = [
    ("Cache-Control", "no-store"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
]
StartResponse = Callable[[str, list[tuple[str, str]]], Any]
App = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


@attrs.frozen(kw_only=True)
class Answer:
    """What a route answers: its body, its media type and headers of its own."""

    body: bytes
    media_type: str
    headers: tuple[tuple[str, str], ...] = ()


@attrs.frozen(kw_only=True)
class Login:
    """The user and password every request must carry (basic auth)."""

    user: str
    password: str = attrs.field(repr=False)

    def admits(self, header: str | None) -> bool:
        """Return whether the ``Authorization`` header ``header`` carries this login;
        both parts are compared in constant time."""
        scheme, _, encoded = (header or "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError):
            return False
        user, colon, password = decoded.partition(b":")
        same_user = hmac.compare_digest(user, self.user.encode())
        same_password = hmac.compare_digest(password, self.password.encode())
        return bool(colon) and same_user and same_password


def application(
    routes: Mapping[str, Callable[[dict[str, Any]], Answer]], login: Login | None
) -> App:
    """Return the WSGI application answering each path of ``routes`` (each route gets the
    WSGI environment), GET and HEAD alone, behind ``login`` when there is one."""

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "")
        if method not in {"GET", "HEAD"}:
            return _plain(
                start_response,
                "405 Method Not Allowed",
                "read-only: GET or HEAD\n",
                [("Allow", ALLOWED)],
            )
        if login is not None and not login.admits(environ.get("HTTP_AUTHORIZATION")):
            return _plain(
                start_response, "401 Unauthorized", "log in\n", [("WWW-Authenticate", REALM)]
            )
        route = routes.get(environ.get("PATH_INFO", ""))
        if route is None:
            return _plain(start_response, "404 Not Found", "not found: try / or /metrics\n", [])
        try:
            answer = route(environ)
        except Exception as error:  # a page that cannot be made must not end the server
            log.warning("%s could not be answered: %s", environ.get("PATH_INFO"), error)
            return _plain(start_response, "500 Internal Server Error", "see the log\n", [])
        headers = [
            ("Content-Type", answer.media_type),
            ("Content-Length", str(len(answer.body))),
            *_COMMON,
            *answer.headers,
        ]
        start_response("200 OK", headers)
        return [b""] if method == "HEAD" else [answer.body]

    return app


def _plain(
    start_response: StartResponse, status: str, text: str, headers: list[tuple[str, str]]
) -> list[bytes]:
    body = text.encode()
    start_response(
        status,
        [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body))),
            *_COMMON,
            *headers,
        ],
    )
    return [body]


class _Server(ThreadingMixIn, WSGIServer):
    """A thread per connection; threads that never end do not keep the process."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out or went away: its own thread ends, nothing else.
        log.debug("a connection from %s ended early", client_address[0])


class _Handler(WSGIRequestHandler):
    """Each connection times out; nothing of a request is logged."""

    timeout = CONNECTION_TIMEOUT

    def log_message(self, format: str, *args: Any) -> None:
        """Log nothing."""


def serve(address: str, port: int, app: App) -> None:
    """Serve ``app`` on ``address``:``port`` (IPv4 or IPv6) from a daemon thread.

    Raises:
        OSError: the port cannot be opened.
    """
    import threading

    class Server(_Server):
        address_family = socket.AF_INET6 if ":" in address else socket.AF_INET

    server = make_server(address, port, app, server_class=Server, handler_class=_Handler)
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
