"""Debian's Chromium, headless, driven over the DevTools protocol (raw CDP messages over
websocket-client): what a page requested, what its console said, its DOM, screenshots.

The browser is cut off from everything but this host: every name resolves to nothing
but 127.0.0.1, and its own background traffic (updates, sync, safe browsing) is off,
so a page that tried to fetch anything from outside fails to, and the test sees it.
"""

from __future__ import annotations

import base64
import itertools
import json
import shutil
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import attrs
import websocket

from .regression_db import free_port

CHROMIUM = "/usr/bin/chromium"
FLAGS = (
    "--headless=new",
    "--no-sandbox",  # the tests run as root
    "--disable-gpu",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--disable-features=Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--remote-debugging-address=127.0.0.1",
)


@attrs.define
class Tab:
    """One page of the browser: send a command and get its result; ``events`` keeps
    every event that arrived, in order."""

    socket: websocket.WebSocket
    events: list[dict[str, Any]] = attrs.field(factory=list)
    _ids: Iterator[int] = attrs.field(factory=lambda: itertools.count(1))

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        """Send ``method`` and return its result (events meanwhile go to ``events``)."""
        number = next(self._ids)
        self.socket.send(json.dumps({"id": number, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == number:
                if "error" in message:
                    raise AssertionError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result
            self.events.append(message)

    def wait_for(self, event: str, timeout: float = 30) -> dict[str, Any]:
        """Return the first event named ``event`` not waited for yet."""
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            for index, message in enumerate(self.events[seen:], start=seen):
                if message.get("method") == event:
                    self.events[index] = {"method": f"(waited) {event}", "params": {}}
                    return message
            seen = len(self.events)
            if time.monotonic() > deadline:
                raise AssertionError(f"no {event} within {timeout} s")
            self.socket.settimeout(max(deadline - time.monotonic(), 0.1))
            with suppress(websocket.WebSocketTimeoutException):
                self.events.append(json.loads(self.socket.recv()))

    def evaluate(self, expression: str) -> Any:
        """Return the value of the JavaScript ``expression`` in the page."""
        said = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in said:
            raise AssertionError(f"{expression}: {said['exceptionDetails']}")
        return said["result"].get("value")

    def open(self, url: str) -> None:
        """Load ``url`` and wait until it has loaded."""
        self.send("Page.navigate", url=url)
        self.wait_for("Page.loadEventFired")

    def screenshot(self, path: Path) -> Path:
        """Save the whole page (not only the viewport) as a PNG at ``path``."""
        size = self.send("Page.getLayoutMetrics")["cssContentSize"]
        clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
        shot = self.send(
            "Page.captureScreenshot", format="png", captureBeyondViewport=True, clip=clip
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def requested(self) -> list[str]:
        """Return the URL of every request the page made."""
        return [
            e["params"]["request"]["url"]
            for e in self.events
            if e.get("method") == "Network.requestWillBeSent"
        ]

    def console_errors(self) -> list[str]:
        """Return every error of the console: logged by a script, thrown, or reported by
        the browser (a failed load, a blocked resource)."""
        said = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in {"error", "assert"}:
                said.append(json.dumps(params.get("args")))
            elif method == "Runtime.exceptionThrown":
                said.append(json.dumps(params.get("exceptionDetails")))
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                said.append(f"{params['entry'].get('url')}: {params['entry'].get('text')}")
        return said


@contextmanager
def chromium() -> Iterator[Tab]:
    """Start a headless Chromium; yield its one tab with the network, the console and the
    page's events enabled; stop it at the end."""
    profile = Path(tempfile.mkdtemp(prefix="pgbm-chromium-"))
    port = free_port()
    process = subprocess.Popen(
        [
            CHROMIUM,
            *FLAGS,
            f"--remote-debugging-port={port}",
            f"--user-data-dir={profile}",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        tab = Tab(
            socket=websocket.create_connection(_page_socket(port), timeout=30, suppress_origin=True)
        )
        for domain in ("Page", "Network", "Runtime", "Log"):
            tab.send(f"{domain}.enable")
        yield tab
        tab.socket.close()
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)
        shutil.rmtree(profile, ignore_errors=True)


def _page_socket(port: int) -> str:
    """Return the DevTools websocket of the browser's page, waiting for it to listen."""
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as got:
                pages = [t for t in json.load(got) if t.get("type") == "page"]
            if pages:
                return str(pages[0]["webSocketDebuggerUrl"])
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError("Chromium's DevTools did not answer within 60 s")
        time.sleep(0.3)
