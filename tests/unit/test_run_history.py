"""The run history on a real file: whole records or none, bad lines skipped one by one,
every record kept under concurrent writers, nothing in it able to fail an operation."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import resource
import shutil
import signal
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pg_backup_manager.adapters.monitoring.run_history import HISTORY_NAME, JsonlRunLog
from pg_backup_manager.domain.history import Operation, Outcome, RunRecord
from pg_backup_manager.domain.model import Layout

NOW = datetime(2024, 7, 4, 9, 0, tzinfo=UTC)
GOOD = (
    '{"operation": "dump", "started_at": "2024-07-04T08:00:00Z", '
    '"finished_at": "2024-07-04T08:01:00Z", "outcome": "success", '
    '"runs_success": 3, "runs_failure": 1}'
)


def record(
    outcome: Outcome = Outcome.SUCCESS,
    *,
    backup: str | None = None,
    operation: Operation = Operation.DUMP,
) -> RunRecord:
    return RunRecord(
        operation=operation,
        started_at=NOW - timedelta(seconds=30),
        finished_at=NOW,
        outcome=outcome,
        backup=backup,
        error="boom" if outcome is Outcome.FAILURE else None,
    )


def history_in(tmp_path: Path, text: str | bytes = b"", keep: int = 1000) -> JsonlRunLog:
    (tmp_path / "users").mkdir(exist_ok=True)
    data = text.encode() if isinstance(text, str) else text
    (tmp_path / "users" / HISTORY_NAME).write_bytes(data)
    layout = Layout(data_root=tmp_path, shared_root=tmp_path, databases_root=tmp_path)
    return JsonlRunLog(layout=layout, keep=keep)


@contextlib.contextmanager
def file_size_limit(limit: int) -> Iterator[None]:
    """Files of this process can grow to ``limit`` bytes: a write past it is cut short,
    then fails (EFBIG), as on a full disk."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)


# Item 1: a record is written whole or not at all.


def test_a_record_cut_short_by_a_full_disk_is_undone_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    run_log = history_in(tmp_path, GOOD + "\n")
    path = tmp_path / "users" / HISTORY_NAME
    before = path.read_bytes()

    with file_size_limit(len(before) + 40):  # room for 40 bytes of the record, not all
        run_log.record("users", record(Outcome.FAILURE))
    run_log.record("users", record(Outcome.SUCCESS, backup="after"))

    assert "run history could not be written" in caplog.text
    lines = path.read_bytes().splitlines()
    assert lines[0] == before.rstrip(b"\n") and len(lines) == 2
    assert [r.backup for r in run_log.records("users")] == [None, "after"]
    assert run_log.unreadable_lines("users") == 0


def test_a_cut_last_line_stays_one_bad_line_and_never_swallows_the_next_record(
    tmp_path: Path,
) -> None:
    run_log = history_in(tmp_path, GOOD + "\n" + GOOD[:50])

    run_log.record("users", record(Outcome.FAILURE))

    kept = run_log.records("users")
    assert [(r.operation, r.outcome) for r in kept] == [
        (Operation.DUMP, Outcome.SUCCESS),
        (Operation.DUMP, Outcome.FAILURE),
    ]
    assert run_log.unreadable_lines("users") == 1
    assert run_log.totals("users") == {Outcome.SUCCESS: 3, Outcome.FAILURE: 2}


def test_a_reader_skips_each_bad_line_and_only_it_and_counts_them(tmp_path: Path) -> None:
    lines = [GOOD, "not json", '["a", "list"]', "", GOOD.replace("dump", "verify"), "42"]
    broken = b"\n".join(line.encode() for line in lines) + b"\n" + b'{"error": "\xff"}\n'
    run_log = history_in(tmp_path, broken)

    kept = run_log.records("users")

    assert [r.operation for r in kept] == [Operation.DUMP, Operation.VERIFY]
    assert run_log.unreadable_lines("users") == 4  # the blank line is no record, and not bad


def test_a_database_without_a_history_has_no_unreadable_lines(tmp_path: Path) -> None:
    layout = Layout(data_root=tmp_path, shared_root=tmp_path, databases_root=tmp_path)

    assert JsonlRunLog(layout=layout).unreadable_lines("users") == 0


# Item 2: every record survives concurrent writers, at the cap or not.


@pytest.mark.parametrize("prefilled", [0, 1000], ids=["below the cap", "at the cap"])
def test_every_record_of_concurrent_writers_survives(tmp_path: Path, prefilled: int) -> None:
    old = GOOD.replace('"dump"', '"verify"')
    run_log = history_in(tmp_path, "".join(old + "\n" for _ in range(prefilled)))
    writers, each = 8, 30  # at the cap: two trims among them

    def write(writer: int) -> None:
        for n in range(each):
            run_log.record("users", record(backup=f"{writer}-{n}", operation=Operation.VERIFY))

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    kept = run_log.records("users")
    written = {f"{w}-{n}" for w in range(writers) for n in range(each)}
    assert written <= {r.backup for r in kept}
    assert len(kept) == min(1000, prefilled + writers * each)


def test_the_history_keeps_only_the_newest_records_however_it_is_trimmed(tmp_path: Path) -> None:
    run_log = history_in(tmp_path, keep=10)

    for n in range(57):
        run_log.record("users", record(backup=str(n)))

    assert [r.backup for r in run_log.records("users")] == [str(n) for n in range(47, 57)]
    assert run_log.totals("users") == {Outcome.SUCCESS: 57, Outcome.FAILURE: 0}
    assert len((tmp_path / "users" / HISTORY_NAME).read_text().splitlines()) <= 20


def test_a_trim_that_fails_loses_no_record_and_the_next_one_trims(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    old = GOOD.replace('"dump"', '"verify"')
    run_log = history_in(tmp_path, "".join(old + "\n" for _ in range(1100)))
    # The trim's copy cannot be made (as on a disk without room for a second copy).
    blocked = tmp_path / "users" / f".{HISTORY_NAME}.{os.getpid()}.new"
    blocked.mkdir()
    (blocked / "in the way").touch()

    run_log.record("users", record(Outcome.FAILURE, backup="kept"))
    over_the_cap = len((tmp_path / "users" / HISTORY_NAME).read_bytes().splitlines())
    shutil.rmtree(blocked)
    run_log.record("users", record(backup="next"))

    assert "could not be written" not in caplog.text
    assert "run history could not be trimmed" in caplog.text
    assert over_the_cap == 1101
    kept = run_log.records("users")
    assert len(kept) == 1000 and [r.backup for r in kept[-2:]] == ["kept", "next"]
    assert len((tmp_path / "users" / HISTORY_NAME).read_bytes().splitlines()) == 1000
    assert run_log.totals("users") == {Outcome.SUCCESS: 4, Outcome.FAILURE: 2}


# Item 10: nothing in the history can fail an operation or a scrape.

BAD_VALUES = [None, "3", -1, [], {}, True, 1.5]


@pytest.mark.parametrize("value", BAD_VALUES, ids=repr)
def test_a_bad_running_total_is_recounted_and_never_fails_a_record(
    tmp_path: Path, value: object, caplog: pytest.LogCaptureFixture
) -> None:
    older = json.loads(GOOD)  # 3 successes, 1 failure so far
    newest = {**older, "outcome": "failure", "runs_success": value, "runs_failure": 2}
    run_log = history_in(tmp_path, json.dumps(older) + "\n" + json.dumps(newest) + "\n")

    counted = run_log.totals("users")
    run_log.record("users", record(Outcome.SUCCESS))

    assert counted == {Outcome.SUCCESS: 3, Outcome.FAILURE: 2}
    assert run_log.totals("users") == {Outcome.SUCCESS: 4, Outcome.FAILURE: 2}
    assert len(run_log.records("users")) == 3
    assert "could not be written" not in caplog.text


@pytest.mark.parametrize(
    ("field", "value"),
    [
        (field, value)
        for field in ("operation", "started_at", "finished_at", "outcome")
        for value in [None, 5, "", [], "nonsense"]
    ],
)
def test_a_record_without_a_valid_operation_time_or_outcome_is_an_unreadable_line(
    tmp_path: Path, field: str, value: object
) -> None:
    bad = {**json.loads(GOOD), field: value}
    run_log = history_in(tmp_path, GOOD + "\n" + json.dumps(bad) + "\n")

    run_log.record("users", record())

    assert len(run_log.records("users")) == 2
    assert run_log.unreadable_lines("users") == 1
    assert run_log.totals("users") == {Outcome.SUCCESS: 4, Outcome.FAILURE: 1}


@pytest.mark.parametrize(
    "field",
    [
        "backup",
        "size_bytes",
        "sha256",
        "error",
        "pg_dump_version",
        "server_version",
        "not_offsite",
    ],
)
@pytest.mark.parametrize("value", [5, "text", -1, [1], {"a": 1}, True], ids=repr)
def test_an_optional_field_of_the_wrong_type_is_read_as_unknown(
    tmp_path: Path, field: str, value: object
) -> None:
    run_log = history_in(tmp_path, json.dumps({**json.loads(GOOD), field: value}) + "\n")

    [read] = run_log.records("users")

    valid = (field == "size_bytes" and value == 5) or (
        field not in ("size_bytes", "not_offsite") and value == "text"
    )
    expected = value if valid else None
    assert getattr(read, field) == expected
    assert run_log.unreadable_lines("users") == 0


def test_a_history_that_cannot_be_parsed_at_all_never_fails_a_record(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    nested = "[" * 100_000 + "]" * 100_000
    run_log = history_in(tmp_path, nested + "\nnull\n\x00\x01\n")

    with caplog.at_level(logging.WARNING):
        run_log.record("users", record())

    assert [r.backup for r in run_log.records("users")] == [None]
    assert run_log.unreadable_lines("users") == 3
    assert run_log.totals("users") == {Outcome.SUCCESS: 1, Outcome.FAILURE: 0}


def test_a_fifo_in_place_of_the_history_is_skipped_by_readers_and_writers_never_blocking(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    run_log = history_in(tmp_path)
    path = tmp_path / "users" / HISTORY_NAME
    path.unlink()
    os.mkfifo(path)
    peer = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # sees whatever is written into it
    seen: list[object] = []

    def use() -> None:
        run_log.record("users", record())
        seen.extend([run_log.records("users"), run_log.totals("users")])
        seen.append(run_log.unreadable_lines("users"))

    worker = threading.Thread(target=use, daemon=True)
    worker.start()
    worker.join(timeout=10)
    try:
        written = os.read(peer, 4096)
    except BlockingIOError:
        written = b""
    finally:
        os.close(peer)

    assert not worker.is_alive(), "a FIFO at the history's path blocked"
    assert seen == [[], {Outcome.SUCCESS: 0, Outcome.FAILURE: 0}, 0]
    assert written == b""
    assert "run history could not be written (history.jsonl is not a regular file)" in caplog.text
    assert "run history could not be read (not a regular file)" in caplog.text


def test_one_reading_reads_each_history_once_and_answers_all_from_it(tmp_path: Path) -> None:
    run_log = history_in(tmp_path, GOOD + "\nnot json\n")
    reading = run_log.read_once()
    before = reading.records("users")

    run_log.record("users", record(Outcome.FAILURE))  # written after its first question

    assert reading.records("users") == before and len(before) == 1
    assert reading.unreadable_lines("users") == 1
    assert reading.totals("users") == {Outcome.SUCCESS: 3, Outcome.FAILURE: 1}
    fresh = run_log.read_once()
    assert len(fresh.records("users")) == 2
    assert fresh.totals("users") == {Outcome.SUCCESS: 3, Outcome.FAILURE: 2}


@pytest.mark.parametrize(
    ("stamp", "read"),
    [
        ("2024-07-04T08:00:00Z", datetime(2024, 7, 4, 8, tzinfo=UTC)),
        ("2024-7-4T8:0:0Z", datetime(2024, 7, 4, 8, tzinfo=UTC)),  # by hand: strptime's
        ("2024-02-30T08:00:00Z", None),
        ("2024-07-04T24:00:00Z", None),
        ("2024-07-04T08:00:00Z\n", None),
        ("2024-07-04T08:00:00+00:00", None),
    ],
)
def test_a_time_is_read_as_the_controller_writes_it_and_by_strptime_otherwise(
    tmp_path: Path, stamp: str, read: datetime | None
) -> None:
    line = {**json.loads(GOOD), "finished_at": stamp}
    run_log = history_in(tmp_path, json.dumps(line) + "\n")

    found = run_log.records("users")

    assert [r.finished_at for r in found] == ([] if read is None else [read])
