"""A damaged stream (its ``STREAM.json`` missing or not a stream's facts) beside the live
one of a real ``controller start`` against a host PostgreSQL 15: listed and told, never
used, never deleted, never the live one; everything else works on."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from .pitr_cluster import SERVICE, archiving
from .process import Controller
from .regression_db import temporary_root

OLD, NEWER = "2020-01-01T00:00:00Z", "2099-01-01T00:00:00Z"
ADVICE = "restore its STREAM.json from a copy, or move the directory away"


def root(name: str) -> Path:
    return Path(temporary_root()) / f"pitr-{name}-{os.getpid()}-{time.monotonic_ns()}"


def test_a_damaged_stream_is_shown_and_left_alone_while_the_live_one_works_on(
    controller: Controller,
) -> None:
    with archiving(controller, root("damaged")) as running:
        running.start()
        running.window_reaching(running.write())
        streams = controller.data_dir(SERVICE) / "pitr" / "streams"
        [live] = [p.name for p in streams.iterdir()]
        for name in (OLD, NEWER):
            (streams / name / "wal").mkdir(parents=True, mode=0o755)
        (streams / OLD / "STREAM.json").write_text('{"garbage": 1}')
        # The receiver started again beside a damaged stream newer than its own goes on.
        running.stop()
        running.start()
        running.window_reaching(running.write())

        listed = running.listed()
        text = controller("list", SERVICE, "--pitr")
        status = controller("status", SERVICE)
        status_json = controller("status", SERVICE, "--json")
        verify = controller("verify", SERVICE, "--pitr")
        into = running.host.data.parent / "recovered"
        recover = controller("recover", SERVICE, "--to", "latest", "--into", str(into))
        base = controller("basebackup", SERVICE)
        prune = controller("prune", SERVICE)

        assert [s["name"] for s in listed["streams"]] == [live]
        assert listed["damaged"] == [
            {"name": NEWER, "reason": "no STREAM.json", "advice": ADVICE},
            {
                "name": OLD,
                "reason": "STREAM.json is not a stream's facts (no 'started_at')",
                "advice": ADVICE,
            },
        ]
        assert f"{SERVICE}: stream {NEWER} DAMAGED (no STREAM.json)" in text.stdout, text
        fault = f"stream {OLD} is damaged (STREAM.json is not a stream's facts"
        assert fault in status.stdout, status
        [entry] = json.loads(status_json.stdout)["databases"]
        assert entry["pitr"]["damaged_streams"] == [NEWER, OLD]
        assert entry["healthy"] is False and entry["pitr"]["stream"] == live
        for run in (verify, recover, base, prune):
            assert run.returncode == 0, run
        assert (into / "PG_VERSION").is_file()
        assert "new stream" not in base.stdout, base
        assert sorted(p.name for p in streams.iterdir()) == sorted([OLD, live, NEWER])
        assert (streams / OLD / "STREAM.json").read_text() == '{"garbage": 1}'
        assert [p.name for p in (streams / NEWER).iterdir()] == ["wal"]
