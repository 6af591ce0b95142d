"""The status page of a database whose history is not a regular file (a FIFO): the
page says so in its row, as ``status`` warns, never waits on it, and the warning is
logged once, however many requests ask."""

from __future__ import annotations

import os

import pytest

from pg_backup_manager.adapters.monitoring.run_history import HISTORY_NAME

from .process import Controller
from .running import wait_until
from .servers import PgServer
from .test_status_page import _root, cluster, get, started  # noqa: F401 (a fixture)

pytestmark = pytest.mark.integration


def test_a_fifo_as_history_is_said_on_the_page_and_warned_of_once(
    controller: Controller,
    cluster: PgServer,  # noqa: F811 (the fixture imported)
) -> None:
    controller.add_database("app", cluster)
    directory = _root(controller) / "backup" / "data" / "app"
    directory.mkdir(parents=True, exist_ok=True)
    os.mkfifo(directory / HISTORY_NAME)
    os.chmod(directory, 0o777)

    with started(controller) as (port, logged):
        wait_until(lambda: _answers(port), 30, "the metrics port")
        pages = [get(port, "/") for _ in range(5)]
        scrapes = [get(port, "/metrics")[0] for _ in range(5)]

    assert [code for code, _, _ in pages] == [200] * 5 and scrapes == [200] * 5
    assert all(b"the run history could not be read (not a regular file)" in p[2] for p in pages)
    assert logged[0].count("the run history could not be read") == 1, logged[0]


def _answers(port: int) -> bool:
    try:
        return get(port, "/")[0] == 200
    except OSError:
        return False
