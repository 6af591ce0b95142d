"""Histories never mix: a promoted recovery, another cluster behind the service and a slot
the server invalidated each begin a new stream with a base backup, the old window kept as
it was; a full backup volume stops the receiver, which resumes with no gap; a server that
refuses replication is a failure told in one line while dumps go on."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from .disks import tiny_tmpfs
from .pitr_cluster import SERVICE, Archiving, archiving, sql
from .process import Controller
from .regression_db import HostServer, new_cluster, temporary_root


def root(name: str) -> Path:
    return Path(temporary_root()) / f"pitr-{name}-{os.getpid()}-{time.monotonic_ns()}"


def streamed_once(running: Archiving) -> dict[str, object]:
    """Start archiving and return the first window once it covers a row written."""
    running.start()
    return running.window_reaching(running.write())


def new_window_after(running: Archiving, old: dict[str, object], why: str) -> dict[str, object]:
    """Wait for a second stream begun for ``why`` with a window of its own; return the
    listing, checking that the old stream's window is as it was."""
    written = running.write()
    entry = running.wait_for(
        f"a window in a new stream ({why})",
        lambda entry: (
            len(entry["streams"]) == 2
            and bool(entry["streams"][0]["windows"])
            and entry["streams"][0]["windows"][-1]["end"] >= written.strftime("%Y-%m-%dT%H:%M:%SZ")
        ),
    )
    newest, oldest = entry["streams"]
    assert newest["why"] == why, newest
    [kept] = oldest["windows"]  # as it was: only what the old server sent before it went
    assert (kept["start"], kept["base_backups"]) == (old["start"], old["base_backups"]), kept
    assert kept["gap_at"] is None and kept["end"] >= old["end"], kept
    assert newest["windows"][0]["start"] >= kept["end"], entry
    notes = [r.get("note") or "" for r in running.history() if r["operation"] == "wal-receiver"]
    assert any(f"new stream {newest['name']} ({why})" in note for note in notes), notes
    return entry


def test_a_promoted_recovery_on_the_same_address_begins_a_new_timeline_stream(
    controller: Controller,
) -> None:
    with archiving(controller, root("promoted")) as running:
        old = streamed_once(running)
        recovered = running.host.data.parent / "recovered"
        recovery = controller("recover", SERVICE, "--to", "latest", "--into", str(recovered))
        assert recovery.returncode == 0, recovery

        running.host.stop()
        promoted = HostServer(data=recovered, port=running.host.port)
        promoted.start()  # its configuration is the old one's: same port, same socket
        deadline = time.monotonic() + 60
        while sql(running.host, "SELECT pg_is_in_recovery()") == "t":
            assert time.monotonic() < deadline, "the recovery did not promote"
            time.sleep(0.5)
        sql(running.host, "CHECKPOINT")
        assert sql(running.host, "SELECT timeline_id FROM pg_control_checkpoint()") == "2"

        entry = new_window_after(running, old, "new timeline")
        assert entry["streams"][0]["timeline"] == 2
        promoted.stop()


def test_another_cluster_behind_the_service_begins_a_new_server_stream(
    controller: Controller,
) -> None:
    with archiving(controller, root("replaced")) as running:
        old = streamed_once(running)
        first = running.listed()["streams"][0]["system_identifier"]

        running.host.stop()
        running.host = new_cluster(running.host.data.parent / "other", port=running.host.port)
        running.host.start()

        entry = new_window_after(running, old, "new server")
        assert entry["streams"][0]["system_identifier"] != first
        running.host.stop()


def test_a_slot_the_server_invalidated_begins_a_new_stream_never_a_gap(
    controller: Controller,
) -> None:
    with archiving(controller, root("lost"), max_slot_wal_keep_size="48MB") as running:
        old = streamed_once(running)
        running.stop()

        for _ in range(6):  # six segments, past the three the slot may keep, unreceived
            running.write(50)
            running.switch()
        sql(running.host, "CHECKPOINT")
        status = sql(running.host, "SELECT wal_status FROM pg_replication_slots")
        assert status == "lost"
        running.start()

        new_window_after(running, old, "slot lost")


def test_a_full_backup_volume_stops_the_receiver_which_resumes_with_no_gap(
    controller: Controller,
) -> None:
    data = controller.workdir / "backup-data" / "data"
    data.mkdir(parents=True)
    with tiny_tmpfs(data, "160m"), archiving(controller, root("full")) as running:
        streamed_once(running)
        filler = data / "filler"
        fill = ["dd", "if=/dev/zero", f"of={filler}", "bs=1M", "count=400", "status=none"]
        subprocess.run(["runuser", "-u", "postgres", "--", *fill], check=False, timeout=60)
        running.write(20)
        running.switch()
        running.wait_for(
            "a receiver stopped by the full volume",
            lambda _: any(
                "No space left" in (r.get("error") or "")
                for r in running.history()
                if r["operation"] == "wal-receiver"
            ),
        )

        filler.unlink()
        written = running.write(3)
        running.received(running.switch())
        window = running.window_reaching(written)

        assert len(running.listed()["streams"]) == 1
        assert window["gap_at"] is None
        receiver = [r for r in running.history() if r["operation"] == "wal-receiver"]
        assert (receiver[-1]["outcome"], receiver[-1]["note"]) == ("success", "receiver started")


def test_a_server_refusing_replication_is_one_line_failure_and_dumps_go_on(
    controller: Controller,
) -> None:
    with archiving(controller, root("refused")) as running:
        hba = running.host.data / "pg_hba.conf"
        hba.write_text(
            "".join(line for line in hba.read_text().splitlines(True) if "replication" not in line)
        )
        sql(running.host, "SELECT pg_reload_conf()")
        running.start()
        running.wait_for(
            "the refusal in the history",
            lambda _: any(r["operation"] == "wal-receiver" for r in running.history()),
        )
        dumped = controller("dump", SERVICE)
        err = running.stop()

        [refused] = [r for r in running.history() if r["operation"] == "wal-receiver"]
        assert refused["outcome"] == "failure"
        assert "pg_hba.conf" in refused["error"] and "replication" in refused["error"]
        assert "\n" not in refused["error"]
        assert dumped.returncode == 0, dumped
        assert "Traceback" not in err
        assert not (controller.data_dir(SERVICE) / "pitr" / "streams").exists()
