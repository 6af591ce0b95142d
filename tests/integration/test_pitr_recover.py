"""``controller recover`` against a host PostgreSQL 15: a data directory that a server starts
on and recovers by itself, to the end of the WAL or exactly to a time; bad targets and
directories refused in one line; a segment that is not what was received never replayed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

from .pitr_cluster import SERVICE, Archiving, archiving, sql
from .process import Controller, assert_one_line_error
from .regression_db import HostServer, free_port, temporary_root


def root(name: str) -> Path:
    return Path(temporary_root()) / f"pitr-{name}-{os.getpid()}-{time.monotonic_ns()}"


def rows_in(recovered: Path) -> list[str]:
    """Start a server on ``recovered`` (another port), wait for its promotion, return the
    times of its rows; stop it."""
    with (recovered / "postgresql.auto.conf").open("a") as conf:
        conf.write(f"port = {free_port()}\nunix_socket_directories = '{recovered}'\n")
    server = HostServer(data=recovered, port=0)
    server.start()
    try:
        deadline = time.monotonic() + 60
        while sql_at(recovered, "SELECT pg_is_in_recovery()") == "t":
            assert time.monotonic() < deadline, "no promotion"
            time.sleep(0.3)
        return sql_at(recovered, "SELECT at FROM r ORDER BY id").splitlines()
    finally:
        server.stop()


def sql_at(recovered: Path, statement: str) -> str:
    port = next(
        line.split("=")[1].strip()
        for line in reversed((recovered / "postgresql.auto.conf").read_text().splitlines())
        if line.startswith("port =")
    )
    return sql(HostServer(data=recovered, port=int(port)), statement)


def written(running: Archiving, rows: int) -> None:
    for _ in range(rows):
        running.write()
        time.sleep(0.1)


def test_recover_to_latest_and_to_a_time_give_back_exactly_the_rows_committed(
    controller: Controller,
) -> None:
    with archiving(controller, root("recover")) as running:
        running.start()
        running.window_reaching(running.write())
        written(running, 10)
        running.window_reaching(running.write())
        every = sql(running.host, "SELECT at FROM r ORDER BY id").splitlines()
        # Between the commits of the sixth and seventh rows, 100 ms apart.
        sixth, seventh = (datetime.fromisoformat(every[i]) for i in (5, 6))
        target = (sixth + (seventh - sixth) / 2).isoformat()

        latest = running.host.data.parent / "latest"
        to_latest = controller("recover", SERVICE, "--to", "latest", "--into", str(latest))
        at_time = running.host.data.parent / "at-time"
        to_time = controller("recover", SERVICE, "--to", target, "--into", str(at_time))

        assert to_latest.returncode == 0, to_latest
        assert "recovers to the end of the WAL received" in to_latest.stdout
        assert rows_in(latest) == every
        assert to_time.returncode == 0, to_time
        assert rows_in(at_time) == every[:6]
        assert not (latest / "pg_backup_wal").exists()  # removed once recovery is over


def test_bad_targets_and_directories_are_refused_in_one_line_and_nothing_is_written(
    controller: Controller,
) -> None:
    with archiving(controller, root("refused")) as running:
        running.start()
        window = running.window_reaching(running.write())
        occupied = running.host.data.parent / "occupied"
        occupied.mkdir()
        (occupied / "keep.txt").write_text("mine")
        before = running.host.data.parent / "before"
        early = "2020-01-01T00:00:00Z"

        outside = controller("recover", SERVICE, "--to", early, "--into", str(before))
        not_empty = controller("recover", SERVICE, "--to", "latest", "--into", str(occupied))
        not_a_time = controller("recover", SERVICE, "--to", "yesterday", "--into", str(before))
        no_such = controller("recover", "nope", "--to", "latest", "--into", str(before))
        a_file = controller(
            "recover", SERVICE, "--to", "latest", "--into", str(occupied / "keep.txt")
        )
        backups = controller.data_dir(SERVICE).parent
        among = backups / SERVICE / "pitr" / "inside"
        among_backups = controller("recover", SERVICE, "--to", "latest", "--into", str(among))
        linked = running.host.data.parent / "link"
        linked.symlink_to(backups)
        through_a_link = controller(
            "recover", SERVICE, "--to", "latest", "--into", str(linked / "inside")
        )
        rfc_3339_only = controller(
            "recover", SERVICE, "--to", "2026-W49-5T23:57:58Z", "--into", str(before)
        )

        for run in (outside, not_empty, not_a_time, no_such, a_file):
            assert_one_line_error(run, 2)
        for run in (among_backups, through_a_link, rfc_3339_only):
            assert_one_line_error(run, 2)
        assert "where the backups are" in among_backups.stderr
        assert "where the backups are" in through_a_link.stderr
        assert not among.exists() and not (backups / "inside").exists()
        assert f"the window is {window['start']} .. " in outside.stderr
        assert "is not empty" in not_empty.stderr
        assert "is not a time" in not_a_time.stderr
        assert not before.exists()
        assert [p.name for p in occupied.iterdir()] == ["keep.txt"]


def test_a_segment_that_is_not_what_was_received_is_never_replayed(
    controller: Controller,
) -> None:
    with archiving(controller, root("corrupt")) as running:
        running.start()
        running.window_reaching(running.write())
        running.write(5)
        closed = running.switch()
        running.received(closed)
        stream = running.listed()["streams"][0]["name"]
        segment = running.wal_dir(stream) / closed
        with segment.open("r+b") as changing:
            changing.seek(1000)
            byte = changing.read(1)
            changing.seek(1000)
            changing.write(bytes([byte[0] ^ 0xFF]))
        into = running.host.data.parent / "into"

        run = controller("recover", SERVICE, "--to", "latest", "--into", str(into))
        verified = controller("verify", SERVICE, "--pitr")

        assert_one_line_error(run, 3)
        assert f"WAL segment {closed}" in run.stderr and "not what was received" in run.stderr
        assert not into.exists()
        assert_one_line_error(verified, 3)


def test_a_recovery_cut_short_leaves_a_directory_no_server_starts_on(
    controller: Controller,
) -> None:
    with archiving(controller, root("cut")) as running:
        running.start()
        running.window_reaching(running.write())
        into = running.host.data.parent / "cut"
        script = f"""
import os
from pathlib import Path
from pg_backup_manager.adapters.pitr.recovery.writer import RecoveryWriter
from pg_backup_manager.adapters.pitr.streams import LocalPitrStore
from pg_backup_manager.adapters.pitr.verifybackup import PgVerifyBackup
from pg_backup_manager.adapters.postgres.pg_binaries import PgBinaries
from pg_backup_manager.domain.model import Layout
layout = Layout(data_root=Path({str(controller.data_dir(SERVICE).parent)!r}),
                shared_root=Path("/nowhere"), databases_root=Path("/nowhere"))
store = LocalPitrStore(layout=layout)
[stream, *_] = store.streams({SERVICE!r})
[base, *_] = store.base_backups({SERVICE!r}, stream)
verifier = PgVerifyBackup(binaries=PgBinaries(root=Path("/usr/lib/postgresql")), timeout=60)
writer = RecoveryWriter(layout=layout, verifier=verifier)
with writer.writing({SERVICE!r}, Path({str(into)!r})) as draft:
    draft.copy_base(stream, base)
    os._exit(9)  # as a SIGKILL would: no clean-up
"""
        as_postgres = ["runuser", "-u", "postgres", "--", sys.executable, "-c", script]
        cut = subprocess.run(as_postgres, capture_output=True, check=False, timeout=120)
        again = controller("recover", SERVICE, "--to", "latest", "--into", str(into))

        assert cut.returncode == 9, cut.stderr
        assert (into / "PG_VERSION").is_file() and (into / "base").is_dir()
        assert not (into / "global" / "pg_control").exists()  # postgres refuses to start
        assert_one_line_error(again, 2)
        assert "is not empty" in again.stderr


def test_a_base_backup_damaged_since_it_was_taken_is_never_recovered_from(
    controller: Controller,
) -> None:
    with archiving(controller, root("damaged-base")) as running:
        running.start()
        running.window_reaching(running.write())
        entry = running.listed()
        stream = entry["streams"][0]["name"]
        [base] = entry["streams"][0]["base_backups"]
        pitr = controller.data_dir(SERVICE) / "pitr" / "streams" / stream / "base"
        version = pitr / base["name"] / "PG_VERSION"
        version.write_text(version.read_text().replace("1", "7"))  # same size, other bytes
        into = running.host.data.parent / "into"

        run = controller("recover", SERVICE, "--to", "latest", "--into", str(into))
        verified = controller("verify", SERVICE, "--pitr")

        assert_one_line_error(run, 3)
        assert f"base backup {base['name']} of stream {stream}" in run.stderr
        assert not into.exists()
        assert_one_line_error(verified, 3)


def test_a_damaged_record_in_the_partial_segment_is_said_never_a_silent_short_recovery(
    controller: Controller,
) -> None:
    with archiving(controller, root("damaged-wal")) as running:
        running.start()
        running.window_reaching(running.write())
        written(running, 20)
        stream = running.listed()["streams"][0]["name"]
        [partial] = running.wal_dir(stream).glob("*.partial")
        data = partial.read_bytes()
        end = len(data.rstrip(b"\0"))
        middle = end // 2 + 100  # among the records received, well before their end
        running.stop()  # the receiver must not rewrite it meanwhile
        with partial.open("r+b") as changing:
            changing.seek(middle)
            changing.write(bytes([data[middle] ^ 0x55]))
        into = running.host.data.parent / "into"

        run = controller("recover", SERVICE, "--to", "latest", "--into", str(into))
        verified = controller("verify", SERVICE, "--pitr")

        assert_one_line_error(run, 3)
        assert "is damaged before its end" in run.stderr
        assert not into.exists()
        assert_one_line_error(verified, 3)
        assert "damaged before its end" in verified.stderr


def test_a_time_past_the_newest_proof_recovers_when_a_later_commit_was_received(
    controller: Controller,
) -> None:
    with archiving(controller, root("past-proof")) as running:
        running.start()
        running.window_reaching(running.write())
        assert running.process is not None
        running.process.send_signal(signal.SIGSTOP)  # no proof from now on; WAL still flows
        try:
            written(running, 20)
            every = sql(running.host, "SELECT at FROM r ORDER BY id").splitlines()
            time.sleep(2)  # pg_receivewal has it all
            proof = running.listed()["windows"][-1]["end"]
            # More than a second before the newest commit received (the margin kept).
            sixth, seventh = (datetime.fromisoformat(every[i]) for i in (-15, -14))
            target = (sixth + (seventh - sixth) / 2).isoformat()
            into = running.host.data.parent / "past"

            run = controller("recover", SERVICE, "--to", target, "--into", str(into))
        finally:
            running.process.send_signal(signal.SIGCONT)

        assert proof < target.replace("+00:00", "Z"), (proof, target)
        assert run.returncode == 0, run
        assert rows_in(into) == every[:-14]
