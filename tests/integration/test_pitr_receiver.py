"""``controller start`` keeps a service's WAL received: the receiver killed, the controller
stopped under writes, the server restarted all leave one window with no gap; a segment
lost from the archive ends the window, and ``verify --pitr`` says so."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from .pitr_cluster import SERVICE, Archiving, archiving, receiver_pid
from .process import Controller
from .regression_db import temporary_root


def root(name: str) -> Path:
    return Path(temporary_root()) / f"pitr-{name}-{os.getpid()}-{time.monotonic_ns()}"


def one_window_from_the_first_base(running: Archiving) -> dict[str, object]:
    """Return the service's listing, asserting one stream with one window that has no gap."""
    entry = running.listed()
    assert len(entry["streams"]) == 1, entry
    assert len(entry["windows"]) == 1, entry
    [window] = entry["windows"]
    assert window["gap_at"] is None, window
    return window  # type: ignore[no-any-return]


def test_the_receiver_killed_is_restarted_with_no_gap_and_both_are_in_the_history(
    controller: Controller,
) -> None:
    with archiving(controller, root("killed")) as running:
        running.start()
        running.window_reaching(running.write())
        first = receiver_pid(running.host)

        os.kill(first, signal.SIGKILL)
        written = running.write(5)
        running.received(running.switch())
        running.window_reaching(written)

        assert receiver_pid(running.host) != first
        one_window_from_the_first_base(running)
        records = [r for r in running.history() if r["operation"] == "wal-receiver"]
        assert [r["outcome"] for r in records] == ["success", "failure", "success"], records
        assert "WAL receiver stopped: pg_receivewal exited -9" in records[1]["error"]
        assert records[2]["note"] == "receiver started"


def test_the_controller_stopped_under_writes_catches_up_with_no_gap(
    controller: Controller,
) -> None:
    with archiving(controller, root("down")) as running:
        running.start()
        running.window_reaching(running.write())
        running.stop()

        for _ in range(3):  # three segments the slot keeps while nobody receives them
            running.write(20)
            running.switch()
        written = running.write()
        running.start()
        running.window_reaching(written)

        window = one_window_from_the_first_base(running)
        assert window["ends_because"] == "newest received"


def test_a_server_restart_is_a_stop_and_a_start_with_no_gap(controller: Controller) -> None:
    with archiving(controller, root("restart")) as running:
        running.start()
        running.window_reaching(running.write())

        running.host.stop()
        time.sleep(3)  # the receiver notices and fails at least once
        running.host.start()
        written = running.write(3)
        running.received(running.switch())
        running.window_reaching(written)

        one_window_from_the_first_base(running)
        outcomes = [r["outcome"] for r in running.history() if r["operation"] == "wal-receiver"]
        assert "failure" in outcomes and outcomes[-1] == "success", outcomes


def test_a_segment_lost_from_the_archive_ends_the_window_and_verify_pitr_fails(
    controller: Controller,
) -> None:
    with archiving(controller, root("gap")) as running:
        running.start()
        running.window_reaching(running.write())
        names = []
        for _ in range(3):
            running.write(5)
            names.append(running.switch())
        running.received(names[-1])
        assert controller("verify", SERVICE, "--pitr").returncode == 0
        stream = running.listed()["streams"][0]["name"]

        lost = names[1]
        (running.wal_dir(stream) / lost).unlink()
        (running.wal_dir(stream) / f"{lost}.sha256").unlink()
        entry = running.listed()
        verified = controller("verify", SERVICE, "--pitr")

        [window] = entry["windows"]
        assert window["gap_at"] == lost
        assert window["ends_because"] == f"gap: segment {lost} missing"
        assert verified.returncode == 3, verified
        assert f"gap: segment {lost} missing" in verified.stderr
        assert verified.stderr.count("\n") == 1, verified
