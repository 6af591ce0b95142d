"""What may be shown of the secrets the controller holds in URLs: notification URLs (Apprise
knows which of their parts are secret), ping URLs (their path is the check's token), and
the texts of errors that may quote either.

Only what is secret is hidden: an off-site location (``s3://bucket/prefix/service``) or a
host name is not, and stays whole wherever it is told.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

HIDDEN = "…"
INVALID = f"{HIDDEN} (invalid: Apprise cannot use it)"
# Apprise's generic webhooks: it cannot know what their paths and headers hold.
_WEBHOOKS = {"json", "jsons", "xml", "xmls", "form", "forms"}
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*(?=://)")
_CREDENTIALS = re.compile(r"(?<=://)[^/@\s]+@")
_SECRET_PARTS = re.compile(r"(?i)((?:token|key|secret|password|pass|apikey)=)[^&\s]+")
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>()]+")
# urllib3 names the path alone: "Max retries exceeded with url: /<uuid>/start".
_PATH_OF_URL = re.compile(r"(?i)(with url: )\S+")


def redact(text: str) -> str:
    """Return ``text`` (an error, a message) with the credentials of the URLs in it
    replaced by ``***``: user and password, and secret query parameters; the rest of each
    URL, a location such as ``s3://backups/prod/orders/``, is left whole."""
    text = _CREDENTIALS.sub("***@", text)
    return _SECRET_PARTS.sub(r"\1***", text)


def notify_url(url: str) -> str:
    """Return Apprise URL ``url`` as it may be shown: as Apprise's plugin for it writes it
    in private mode (tokens, keys and passwords masked), without query options (Apprise
    writes headers and custom parameters there in clear), and without the path of a generic
    webhook; ``<scheme>://… (invalid: …)`` when Apprise cannot use it."""
    import apprise  # here: a heavy import that only notifications and `config` need

    scheme = _SCHEME.match(url.strip())
    invalid = f"{scheme.group()}://{INVALID}" if scheme else INVALID
    # Apprise logs why it cannot use a URL: showing a URL is not using it.
    _APPRISE_LOG.quiet.on = True
    try:
        plugin = apprise.Apprise.instantiate(url.strip())
        private = plugin.url(privacy=True) if plugin is not None else None  # type: ignore[no-untyped-call]
    except Exception:  # Apprise's parsing of any text must not fail a command
        private = None
    finally:
        _APPRISE_LOG.quiet.on = False
    if not isinstance(private, str):
        return invalid
    parts = urlsplit(private)
    path = parts.path.rstrip("/")
    if parts.scheme in _WEBHOOKS and path:
        path = f"/{HIDDEN}"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def notify_urls(urls: Iterable[str]) -> str:
    """Return ``urls`` as they may be shown (see ``notify_url``), separated by commas."""
    return ", ".join(notify_url(url) for url in urls)


def ping_url(url: str) -> str:
    """Return ping URL ``url`` as it may be shown: ``<scheme>://<host>[:<port>]/…``; its
    path, query and credentials are the check's secret. Any other URL is shown the same
    way, or by its scheme alone when its host is not a server's name (as in
    ``tgram://<bot token>/…``)."""
    try:
        parts = urlsplit(url.strip())
        host, port = parts.hostname, parts.port
    except ValueError:
        host, port = None, None
    scheme = _SCHEME.match(url.strip())
    if scheme is None:
        return HIDDEN
    if host is None or parts.scheme.lower() not in {"http", "https"}:
        return f"{scheme.group()}://{HIDDEN}"
    where = f"[{host}]" if ":" in host else host
    where += f":{port}" if port is not None else ""
    return f"{parts.scheme}://{where}/{HIDDEN}"


def error_text(error: BaseException, secrets: Iterable[str] = ()) -> str:
    """Return ``error`` as one line that may be shown: its class and its text, with each
    of ``secrets`` (the configured URLs it may quote) and every URL in it reduced to what
    ``ping_url`` shows, and the path urllib3 quotes alone hidden."""
    text = " ".join(str(error).split())
    for secret in sorted({s.strip() for s in secrets if s.strip()}, key=len, reverse=True):
        text = text.replace(secret, ping_url(secret))
    text = _URL.sub(lambda found: ping_url(found.group()), text)
    text = _PATH_OF_URL.sub(rf"\1{HIDDEN}", text)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


class HidingUrls(logging.Filter):
    """Rewrites each record of a library's logger so that no URL in it is shown beyond
    what ``ping_url`` shows (Apprise's warnings may quote a service's URL, masked by
    guesswork); drops the records of a thread that set ``quiet.on``."""

    def __init__(self) -> None:
        super().__init__()
        self.quiet = threading.local()

    def filter(self, record: logging.LogRecord) -> bool:
        """Return whether to log ``record``, having reduced every URL in its message."""
        if getattr(self.quiet, "on", False):
            return False
        text = record.getMessage()
        hidden = _PATH_OF_URL.sub(rf"\1{HIDDEN}", _URL.sub(lambda f: ping_url(f.group()), text))
        if hidden != text:
            record.msg, record.args = hidden, None
        return True


_APPRISE_LOG = HidingUrls()
logging.getLogger("apprise").addFilter(_APPRISE_LOG)
