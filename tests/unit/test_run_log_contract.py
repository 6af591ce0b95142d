"""The fake run log against the real one (``history.jsonl``): what is recorded is read
back the same, so the fake stays honest.

Each test records through ``recorder`` (the RunRecorder port) and reads through
``reader`` (RunHistory): one object in both adapters today; should they part, only
the fixture changes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest

from pg_backup_manager.adapters.monitoring.run_history import JsonlRunLog
from pg_backup_manager.domain.history import Operation, Outcome, RunRecord
from pg_backup_manager.domain.model import Layout

from .fakes import FakeRunLog

AT = datetime(2024, 7, 4, 9, 0, tzinfo=UTC)


@attrs.frozen
class History:
    """The side that records runs and the side that reads them (one object today)."""

    recorder: Any
    reader: Any


@pytest.fixture(params=["fake", "jsonl"])
def history(request: pytest.FixtureRequest, tmp_path: Path) -> History:
    if request.param == "fake":
        log: Any = FakeRunLog()
    else:
        layout = Layout(data_root=tmp_path, shared_root=tmp_path, databases_root=tmp_path)
        log = JsonlRunLog(layout=layout)
    return History(recorder=log, reader=log)


def run(operation: Operation, outcome: Outcome, minutes: int = 0, **details: Any) -> RunRecord:
    started = AT + timedelta(minutes=minutes)
    return RunRecord(
        operation=operation,
        started_at=started,
        finished_at=started + timedelta(seconds=30),
        outcome=outcome,
        **details,
    )


def test_a_database_without_history_has_no_records_no_runs_and_no_unreadable_line(
    history: History,
) -> None:
    assert history.reader.records("users") == []
    assert history.reader.totals("users") == {Outcome.SUCCESS: 0, Outcome.FAILURE: 0}
    assert history.reader.unreadable_lines("users") == 0


def test_what_is_recorded_is_read_back_whole_oldest_first_per_database(history: History) -> None:
    dumped = run(
        Operation.DUMP,
        Outcome.SUCCESS,
        backup="file_daily_2024-07-04T09:00:00Z.dump",
        size_bytes=4096,
        sha256="a" * 64,
        pg_dump_version="18.1",
        server_version="17.7",
    )
    synced = run(
        Operation.SYNC,
        Outcome.FAILURE,
        minutes=1,
        error="upload failed: connection reset",
        not_offsite=("file_daily_2024-07-04T09:00:00Z.dump",),
        confirmed_offsite=(("file_daily_2024-07-03T09:00:00Z.dump", "b" * 64),),
        unusable_offsite=("file_daily_2024-07-02T09:00:00Z.dump",),
    )
    other = run(Operation.PRUNE, Outcome.SUCCESS, minutes=2)

    history.recorder.record("users", dumped)
    history.recorder.record("orders", other)
    history.recorder.record("users", synced)

    assert history.reader.records("users") == [dumped, synced]
    assert history.reader.records("orders") == [other]
    assert history.reader.unreadable_lines("users") == 0


def test_totals_count_every_backup_run_and_nothing_else(history: History) -> None:
    for minutes, (operation, outcome) in enumerate(
        [
            (Operation.SCHEDULED, Outcome.SUCCESS),
            (Operation.DUMP, Outcome.FAILURE),
            (Operation.DUMP, Outcome.SUCCESS),
            (Operation.RESTORE, Outcome.FAILURE),
            (Operation.SYNC, Outcome.SUCCESS),
            (Operation.PRUNE, Outcome.FAILURE),
        ]
    ):
        history.recorder.record("users", run(operation, outcome, minutes))

    assert history.reader.totals("users") == {Outcome.SUCCESS: 2, Outcome.FAILURE: 1}
    assert history.reader.totals("orders") == {Outcome.SUCCESS: 0, Outcome.FAILURE: 0}


def test_a_sync_that_found_no_unusable_copy_reads_back_as_having_none(
    history: History,
) -> None:
    synced = run(Operation.SYNC, Outcome.SUCCESS, not_offsite=(), confirmed_offsite=())

    history.recorder.record("users", attrs.evolve(synced, unusable_offsite=()))

    [read] = history.reader.records("users")
    # history.jsonl writes the field only when a copy was unusable, and reads its absence
    # as None; every reader takes None and () alike (``unusable_offsite or ()``).
    assert attrs.evolve(read, unusable_offsite=None) == synced
    assert (read.unusable_offsite or ()) == ()
