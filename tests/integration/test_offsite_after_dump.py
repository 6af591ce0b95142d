"""After each dump, with OFFSITE_URL set, what is missing off-site goes up: a store that
cannot be reached keeps the backup local, says so and exits 1; once it is back, the next
dump uploads both backups, oldest first."""

from __future__ import annotations

import json
import uuid

import pytest

from .process import Controller, assert_one_line_error
from .s3 import DEAD_ENDPOINT, S3Server
from .servers import PgServers, psql

pytestmark = pytest.mark.integration


def test_a_dump_while_the_store_is_down_stays_local_and_the_next_dump_uploads_both(
    pg: PgServers, controller: Controller, s3_server: S3Server
) -> None:
    prefix = f"it-{uuid.uuid4().hex[:12]}/prod"
    psql(pg.a, "CREATE TABLE kept AS SELECT generate_series(1, 100) AS id;")
    controller.add_database("a", pg.a)
    controller.env["DATABASE_LIST"] = "a"
    controller.env.update(s3_server.environ(prefix))
    controller.env["S3_ENDPOINT_URL"] = DEAD_ENDPOINT  # the store is down

    down = controller("dump", "a")
    [first] = controller.backups("a")
    local = (controller.data_dir("a") / first).read_bytes()
    controller.env["S3_ENDPOINT_URL"] = s3_server.endpoint  # and back
    back = controller("dump", "a")

    assert_one_line_error(down, 1)
    assert f"{first} exists locally but is not off-site yet" in down.stderr, down
    assert "unreachable" in down.stderr, down
    assert s3_server.secret_key not in down.output
    assert back.returncode == 0, back
    second = next(name for name in controller.backups("a") if name != first)
    assert [line.split(" (")[0] for line in back.stdout.splitlines()[1:]] == [
        f"a: uploaded {first}",
        f"a: uploaded {second}",
    ]
    assert (controller.data_dir("a") / first).read_bytes() == local
    keys = s3_server.keys(prefix)
    assert f"{prefix}/a/{first}" in keys and f"{prefix}/a/{second}" in keys
    history = [
        json.loads(line)
        for line in (controller.data_dir("a") / "history.jsonl").read_text().splitlines()
    ]
    assert [(r["operation"], r["outcome"]) for r in history] == [
        ("dump", "success"),
        ("sync", "failure"),
        ("dump", "success"),
        ("sync", "success"),
    ]
