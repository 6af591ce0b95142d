"""The HTTP side of ``controller start`` with ``METRICS_PORT``: ``/`` (the status page),
``/status.json`` and ``/metrics``, read-only: the routes, the login, the answers.

GET and HEAD only (405 with ``Allow`` otherwise, whatever the path), 404 for any other
path (matched exactly as sent: ``//`` or ``/%73tatus.json`` are not served; the query
string is ignored; the absolute form ``http://host:port/path`` is its path when its port
is the server's own); an answer to HEAD never has a body; with
``METRICS_USER``/``METRICS_PASSWORD``, every answer but 401 needs them (basic auth,
compared in constant time). The server itself (a thread per connection, a deadline per
request, a cap on connections) is :mod:`.web_server`. Nothing of a request is logged: a
request line may carry anything.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

import attrs

log = logging.getLogger(__name__)
ALLOWED = "GET, HEAD"
# The Content-Security-Policy of every answer (the status page's own): nothing but its
# inline style and its data: icon may load, no script runs, no form posts, no other site
# frames it.
POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
REALM = 'Basic realm="pg_backup_manager", charset="UTF-8"'
# The request target as sent (the request line's second word), set by the server.
TARGET = "pg_backup_manager.target"
SERVER = "pg-backup-manager"
COMMON = [
    ("Server", SERVER),
    ("Cache-Control", "no-store"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("Content-Security-Policy", POLICY),
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
                method,
            )
        if login is not None and not login.admits(environ.get("HTTP_AUTHORIZATION")):
            return _plain(
                start_response,
                "401 Unauthorized",
                "log in\n",
                [("WWW-Authenticate", REALM)],
                method,
            )
        route = routes.get(path(environ.get(TARGET, ""), environ.get("SERVER_PORT", "")))
        if route is None:
            return _plain(
                start_response, "404 Not Found", "not found: try / or /metrics\n", [], method
            )
        try:
            answer = route(environ)
        except Exception as error:  # a page that cannot be made must not end the server
            log.warning("%s could not be answered: %s", environ.get("PATH_INFO"), error)
            return _plain(start_response, "500 Internal Server Error", "see the log\n", [], method)
        headers = [
            ("Content-Type", answer.media_type),
            ("Content-Length", str(len(answer.body))),
            *COMMON,
            *answer.headers,
        ]
        start_response("200 OK", headers)
        return [b""] if method == "HEAD" else [answer.body]

    return app


def path(target: str, port: str) -> str:
    """Return the path that the request target ``target`` asks for, exactly as sent and
    without its query string; of the absolute form (``http://host:port/path``), its path
    when the port is ``port`` (the server's own), else ``""`` (no path served)."""
    if not target.startswith("/"):
        try:
            parts = urlsplit(target)
            own = parts.scheme.lower() == "http" and str(parts.port or 80) == port
        except ValueError:  # a port that is not a number
            return ""
        if not own or not parts.netloc:
            return ""
        target = target[len(parts.scheme) + 3 + len(parts.netloc) :]
        target = target if target.startswith("/") else "/" + target
    return target.partition("?")[0].partition("#")[0]


def plain_headers(body: bytes, headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Return the headers of the text answer ``body``: its type and length, the headers of
    every answer, then ``headers``."""
    return [
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Length", str(len(body))),
        *COMMON,
        *headers,
    ]


def _plain(
    start_response: StartResponse,
    status: str,
    text: str,
    headers: list[tuple[str, str]],
    method: str,
) -> list[bytes]:
    body = text.encode()
    start_response(status, plain_headers(body, headers))
    return [b""] if method == "HEAD" else [body]
