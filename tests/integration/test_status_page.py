"""The status page of a running ``controller start``, in a real browser (Debian's
Chromium, headless), and its HTTP side: read-only, basic auth, slow clients."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pg_backup_manager.adapters.monitoring.run_history import HISTORY_NAME

from .browser import chromium
from .process import Controller
from .receiver import scrape_metrics
from .regression_db import free_port, started_new, temporary_root
from .running import spawn, stop, wait_until
from .servers import APP_DB, PgServer, psql, recreate_database

pytestmark = pytest.mark.integration

# Where the screenshots are kept (printed by the test); the README shows one of them.
ARTEFACTS = Path(os.environ.get("PGBM_ARTEFACTS", "/var/tmp/pg-backup-manager-artefacts"))
# A database that does not exist, named to break a page that does not escape its errors.
HOSTILE_DB = "<img src=x onerror=alert(1)>"
PHONE_WIDTH = 390


@pytest.fixture(scope="module")
def cluster() -> Iterator[PgServer]:
    root = temporary_root()
    try:
        with started_new(root) as host:
            recreate_database(host.server, APP_DB)
            psql(
                host.server, "CREATE TABLE orders AS SELECT g AS id FROM generate_series(1, 500) g"
            )
            yield host.server
    finally:
        shutil.rmtree(root, ignore_errors=True)


def in_production(controller: Controller, *args: str) -> tuple[int, str, str]:
    """Run ``controller *args`` in production, its /var/lib/postgresql in the test's own
    directory (a mount namespace of its own); return its exit code and output."""
    process = spawn(controller, *args, namespace_root=_root(controller))
    out, err = process.communicate(timeout=120)
    assert "Traceback" not in out + err
    return process.returncode, out, err


def _root(controller: Controller) -> Path:
    root = controller.workdir / "var-lib-postgresql"
    (root / "backup" / "data").mkdir(parents=True, exist_ok=True)
    return root


@contextmanager
def started(controller: Controller) -> Iterator[tuple[int, list[str]]]:
    """Run ``controller start`` in production (see :func:`in_production`) with METRICS_PORT
    on a free port; yield the port and, once it stopped, what it logged (the list fills at
    the end)."""
    port = free_port()
    controller.env.update(MODE="production", METRICS_PORT=str(port))
    controller.env.setdefault("BACKUP_SCHEDULE", "0 0 1 1 *")
    process = spawn(controller, "start", namespace_root=_root(controller))
    logged: list[str] = []
    try:
        yield port, logged
    finally:
        code, out, err = stop(process)
        logged.append(out + err)
        assert code == 0, err


def get(
    port: int, path: str, *, method: str = "GET", auth: str | None = None
) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method)
    if auth is not None:
        request.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def with_history(controller: Controller, cluster: PgServer) -> None:
    """``app`` with three backups, ``broken`` (its database missing) failing on start."""
    controller.add_database("app", cluster)
    controller.add_database("broken", cluster, db=HOSTILE_DB)
    controller.env.update(MODE="production", BACKUP_ON_START="true")
    _plant_history(_root(controller) / "backup" / "data" / "app")
    for _ in range(3):
        code, _, err = in_production(controller, "dump", "app")
        assert code == 0, err
        time.sleep(1.1)  # one backup name a second


def test_the_page_in_a_real_browser_shows_each_database_and_fetches_nothing_from_outside(
    controller: Controller, cluster: PgServer
) -> None:
    with_history(controller, cluster)
    shots = ARTEFACTS / "status-page"
    shutil.rmtree(shots, ignore_errors=True)

    with started(controller) as (port, _):
        wait_until(lambda: _answers(port), 30, "the metrics port")
        idle = socket.create_connection(("127.0.0.1", port))  # sends nothing
        wait_until(lambda: _failed_once(port), 120, "the failure of broken on start")
        with chromium() as tab:
            tab.send(
                "Emulation.setDeviceMetricsOverride",
                width=1200,
                height=800,
                deviceScaleFactor=1,
                mobile=False,
            )
            tab.open(f"http://127.0.0.1:{port}/")
            found = tab.evaluate(
                """({
                rows: [...document.querySelectorAll('tr.database')].map(r => r.dataset.database),
                charts: [...document.querySelectorAll('section.database-charts')].map(
                    s => [s.dataset.database, s.querySelectorAll('svg').length]),
                failures: document.querySelectorAll('svg .failure').length,
                images: document.querySelectorAll('img, script, form, button, input').length,
                text: document.body.innerText,
                light: getComputedStyle(document.body).backgroundColor,
            })"""
            )
            wide = tab.screenshot(shots / "status-page.png")
            tab.send(
                "Emulation.setEmulatedMedia",
                features=[{"name": "prefers-color-scheme", "value": "dark"}],
            )
            dark = tab.evaluate("getComputedStyle(document.body).backgroundColor")
            tab.screenshot(shots / "status-page-dark.png")
            tab.send(
                "Emulation.setDeviceMetricsOverride",
                width=PHONE_WIDTH,
                height=844,
                deviceScaleFactor=2,
                mobile=True,
            )
            tab.open(f"http://127.0.0.1:{port}/")
            phone = tab.evaluate("document.documentElement.scrollWidth")
            tab.screenshot(shots / "status-page-phone.png")
        idle.close()
    print(f"screenshots in {shots}")

    assert found["rows"] == ["app", "broken"]
    assert found["charts"] == [["app", 2], ["broken", 2]]
    assert found["failures"] == 4  # on both charts: broken's failure, app's planted one
    assert found["images"] == 0  # the database's name in the error stayed text
    assert f'database "{HOSTILE_DB}" does not exist' in found["text"]
    assert re.search(r"file_(daily|weekly|monthly)_", found["text"])
    assert dark != found["light"]
    assert phone <= PHONE_WIDTH
    assert tab.requested() and all(
        url.startswith(f"http://127.0.0.1:{port}/") or url.startswith("data:")
        for url in tab.requested()
    ), tab.requested()
    assert tab.console_errors() == []
    assert wide.stat().st_size > 10_000


def _plant_history(directory: Path) -> None:
    """Give ``directory`` a month of daily runs before the test's own: sizes growing,
    durations varying, one failure."""
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC).replace(microsecond=0)
    lines = []
    for day in range(30, 0, -1):
        end = now - timedelta(days=day)
        failed = day == 9
        lines.append(
            {
                "operation": "scheduled",
                "started_at": _rfc(end - timedelta(seconds=40 + (day * 7) % 25)),
                "finished_at": _rfc(end),
                "outcome": "failure" if failed else "success",
                "size_bytes": None if failed else 1_800 + 10 * (30 - day),
                "error": "pg_dump: error: connection to server failed: timeout" if failed else None,
            }
        )
    text = "".join(
        json.dumps({k: v for k, v in line.items() if v is not None}) + "\n" for line in lines
    )
    (directory / HISTORY_NAME).write_text(text)


def _rfc(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def _failed_once(port: int) -> bool:
    try:
        status, _, body = get(port, "/status.json")
    except OSError:
        return False
    broken = [d for d in json.loads(body)["databases"] if d["database"] == "broken"]
    return status == 200 and bool(broken) and broken[0]["last_failure_at"] is not None


def test_the_port_is_read_only_serves_status_json_and_a_silent_client_stalls_nothing(
    controller: Controller, cluster: PgServer
) -> None:
    controller.add_database("app", cluster)

    with started(controller) as (port, _):
        scrape_metrics(port)
        idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(3)]
        page = get(port, "/")
        document = get(port, "/status.json")
        head = get(port, "/", method="HEAD")
        refused = {
            m: get(port, "/", method=m)[:2] for m in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS")
        }
        refused["BREW"] = get(port, "/metrics", method="BREW")[:2]
        missing = get(port, "/backups")
        for connection in idle:
            connection.close()
        from_cli = in_production(controller, "status", "--json")

    assert page[0] == 200 and page[1]["Content-Type"] == "text/html; charset=utf-8"
    assert "default-src 'none'" in page[1]["Content-Security-Policy"]
    served, said = json.loads(document[2]), json.loads(from_cli[1])
    assert document[1]["Content-Type"] == "application/json"
    assert served["schema"] == 1 and [d["database"] for d in served["databases"]] == ["app"]
    assert [sorted(d) for d in served["databases"]] == [sorted(d) for d in said["databases"]]
    assert head[0] == 200 and head[2] == b"" and int(head[1]["Content-Length"]) == len(page[2])
    assert {m: code for m, (code, _) in refused.items()} == dict.fromkeys(refused, 405)
    assert all(headers["Allow"] == "GET, HEAD" for _, headers in refused.values())
    assert missing[0] == 404


def test_basic_auth_refuses_without_accepts_with_and_never_shows_the_password(
    controller: Controller, cluster: PgServer, tmp_path: Path
) -> None:
    secret = "page-secret-7f3a"
    password_file = tmp_path / "metrics-password"
    password_file.write_text(secret + "\n")
    controller.add_database("app", cluster)
    controller.env.update(METRICS_USER="ops", METRICS_PASSWORD_FILE=str(password_file))

    with started(controller) as (port, logged):
        wait_until(lambda: _answers(port), 30, "the metrics port")
        answers = {
            (path, auth): get(port, path, auth=auth)
            for path in ("/", "/metrics", "/status.json")
            for auth in (None, "ops:wrong", f"other:{secret}", f"ops:{secret}")
        }
        config = in_production(controller, "config")

    for (path, auth), (code, headers, body) in answers.items():
        assert code == (200 if auth == f"ops:{secret}" else 401), (path, auth)
        if code == 401:
            assert headers["WWW-Authenticate"].startswith('Basic realm="pg_backup_manager"')
        assert secret.encode() not in body
    assert secret not in logged[0] and secret not in "".join(config[1:])
    assert "(basic auth)" in logged[0]


def _answers(port: int) -> bool:
    try:
        get(port, "/")
    except OSError:
        return False
    return True
