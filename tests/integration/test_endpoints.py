"""Endpoints that never finish answering (a ping URL, a notification webhook, a store)
against the real controller: nothing waits on them past a deadline, and a scheduler
held up by one is reported stuck by ``health --liveness``."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from .process import Controller
from .running import spawn, stop, wait_until
from .servers import PgServers
from .trickle import trickling

pytestmark = pytest.mark.integration

PROMPT_EXIT_S = 40  # a dump of a small database takes seconds; a trickle never ends
# More than the 30 s between the beats of a run: red here means late, not silent.
LIVENESS = ("health", "--liveness", "--max-age", "45")


def _production(controller: Controller, tmp_path: Path) -> Path:
    root = tmp_path / "var-lib-postgresql"
    (root / "backup" / "data").mkdir(parents=True)
    controller.env.update(MODE="production", BACKUP_SCHEDULE="0 0 1 1 *", BACKUP_ON_START="true")
    return root


def _in_namespace(controller: Controller, root: Path, *args: str) -> tuple[int, str, str]:
    process = spawn(controller, *args, namespace_root=root)
    out, err = process.communicate(timeout=60)
    return process.returncode, out, err


def test_a_trickling_ping_url_never_holds_up_the_backup_on_start(
    pg: PgServers, controller: Controller, tmp_path: Path
) -> None:
    controller.add_database("a", pg.a)
    root = _production(controller, tmp_path)
    backups = root / "backup" / "data" / "a"
    with trickling() as trickle:
        controller.env["HEALTHCHECKS_URL"] = trickle.url("/hc")
        process = spawn(controller, "start", namespace_root=root)
        try:
            wait_until(lambda: "/hc/start" in trickle.paths, 30, "the /start ping")
            wait_until(lambda: any(backups.glob("file_*.dump")), 60, "the backup on start")
        finally:
            code, _, err = stop(process)

    assert code == 0, err


def test_dump_exits_promptly_with_its_backup_whatever_a_notification_endpoint_does(
    pg: PgServers, controller: Controller
) -> None:
    controller.add_database("a", pg.a)
    with trickling() as trickle:
        controller.env.update(NOTIFY_URLS=trickle.url("/notify", scheme="json"), NOTIFY_ON="always")
        started = time.monotonic()
        process = spawn(controller, "dump", "a")
        try:
            out, err = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
            pytest.fail(f"dump still running after 60 s\n{err}", pytrace=False)
        took = time.monotonic() - started

    assert process.returncode == 0, err
    assert took < PROMPT_EXIT_S, f"dump took {took:.0f} s\n{err}"
    assert len(controller.backups("a")) == 1
    assert trickle.paths == ["/notify"]
    assert "could not notify" in err
    assert "Traceback" not in out + err


def test_a_run_stuck_on_a_trickling_store_turns_liveness_red_while_the_heart_beats(
    pg: PgServers, controller: Controller, tmp_path: Path
) -> None:
    controller.add_database("a", pg.a)
    root = _production(controller, tmp_path)
    heartbeat = root / "backup" / "data" / ".heartbeat"
    with trickling() as trickle:
        controller.env.update(
            BACKUP_TIMEOUT="5",
            LOCK_TIMEOUT="0",
            OFFSITE_URL="s3://trickle/site",
            S3_ENDPOINT_URL=trickle.url(""),
            S3_FORCE_PATH_STYLE="true",
            AWS_ACCESS_KEY_ID="trickle-key",
            AWS_SECRET_ACCESS_KEY="trickle-secret-5f1e",
        )
        process = spawn(controller, "start", namespace_root=root)
        try:
            wait_until(lambda: bool(trickle.paths), 60, "the run to reach the store")
            early = _in_namespace(controller, root, *LIVENESS)
            wait_until(
                lambda: _in_namespace(controller, root, *LIVENESS)[0] == 1,
                120,
                "liveness to turn red",
            )
            code, _, said = _in_namespace(controller, root, *LIVENESS)
            beat_age = time.time() - heartbeat.stat().st_mtime
        finally:
            stop(process)

    assert early[0] == 0, early
    assert code == 1
    assert "the run in progress since" in said and "is stuck" in said, said
    assert beat_age < 45  # the heart still beats: red says the run is stuck, not gone
    assert "trickle-secret-5f1e" not in said
