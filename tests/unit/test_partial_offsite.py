"""Where a partial backup goes, its note goes too: its off-site copy (judged like the
globals, completed by ``sync``, shown by ``list --remote``), its shared ``file.dump``,
the records of the history and the notification of its dump, and every restore of it."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import attrs

from pg_backup_manager.adapters.monitoring import history_lines
from pg_backup_manager.adapters.monitoring.notifications import message
from pg_backup_manager.domain.dump_options import DumpOptions
from pg_backup_manager.domain.history import Operation, Outcome, RunRecord
from pg_backup_manager.domain.names import Backup, BackupName, Tier
from pg_backup_manager.domain.offsite.sync import plan_sync
from pg_backup_manager.domain.offsite_copies import OffsiteCopy

from .fakes import GOOD_SHA256, NOTE_SHA256, Companion, Fakes, database
from .test_cli import Run, fakes, run  # noqa: F401  (the CLI through the real container)

LEFT_OUT = ("--exclude-table=audit", '--exclude-table="Sales, 2024"')
SAID = "--exclude-table=audit '--exclude-table=\"Sales, 2024\"'"
EXCLUDING = DumpOptions(arguments=LEFT_OUT, left_out=LEFT_OUT)
USERS = database("users", dbname="app", dump_options=EXCLUDING)
OLD = "file_monthly_2024-06-01T03:00:00Z.dump"
NEW = "file_daily_2024-07-03T03:00:00Z.dump"


def with_local_backup(fakes: Fakes, name: str, left_out: tuple[str, ...] | None) -> BackupName:  # noqa: F811 (not the fixture)
    """A committed local backup ``name`` of ``users``, partial unless ``left_out`` is None."""
    parsed = BackupName.parse(name)
    fakes.store.add("users", parsed)
    fakes.store.checksums["users", parsed] = GOOD_SHA256
    fakes.store.globals_checksums["users", parsed] = GOOD_SHA256
    if left_out is not None:
        fakes.store.left_out["users", parsed] = left_out
    return parsed


def test_a_copy_with_a_note_is_partial_and_one_without_is_whole() -> None:
    def judged(*, note: bool) -> OffsiteCopy:
        name = BackupName.parse(OLD)
        return OffsiteCopy.judged(
            name=name,
            size=12,
            sha256=GOOD_SHA256,
            checksum_line=f"{GOOD_SHA256}  {OLD}\n",
            globals_found=False,
            note_found=note,
            note_sha256=NOTE_SHA256 if note else None,
            note_line=f"{NOTE_SHA256}  {name.note_name}\n" if note else None,
        )

    assert (judged(note=True).partial, judged(note=True).usable) == (True, True)
    assert (judged(note=False).partial, judged(note=False).usable) == (False, True)


def test_a_partial_backups_copy_without_its_note_is_incomplete_a_whole_ones_is_not() -> None:
    partial = Backup(name=BackupName.parse(OLD), size=10, partial=True, left_out=LEFT_OUT)
    whole = Backup(name=BackupName.parse(NEW), size=10)
    copies = [OffsiteCopy(name=partial.name, size=10), OffsiteCopy(name=whole.name, size=10)]

    plan = plan_sync([partial, whole], copies)
    noted = plan_sync([partial], [attrs.evolve(copies[0], partial=True)])

    assert [str(b.name) for b in plan.incomplete] == [OLD]
    assert [str(b.name) for b in plan.listed] == [NEW]
    assert [str(b.name) for b in noted.listed] == [OLD]


def test_sync_uploads_the_note_with_the_copy_and_completes_a_copy_made_without_it(
    fakes: Fakes,  # noqa: F811
) -> None:
    old = with_local_backup(fakes, OLD, LEFT_OUT)
    new = with_local_backup(fakes, NEW, None)
    fakes.sync()([database("users")])
    fakes.offsite.lose("users", old, Companion.NOTE, Companion.NOTE_CHECKSUM)
    made_before = {copy.name: copy.partial for copy in fakes.offsite.copies("users")}

    report = fakes.sync()([database("users")])

    assert made_before == {old: False, new: False}
    [result] = report.results
    assert [str(copy.name) for copy in result.completed] == [OLD]
    assert fakes.offsite.actions[-1] == ("complete", "users", OLD)
    assert {copy.name: copy.partial for copy in fakes.offsite.copies("users")} == {
        old: True,
        new: False,
    }
    assert fakes.run_log.records("users")[-1].unusable_offsite == ()


def test_list_remote_shows_a_partial_copy_and_what_it_left_out(run: Run, fakes: Fakes) -> None:  # noqa: F811
    old = with_local_backup(fakes, OLD, LEFT_OUT)
    with_local_backup(fakes, NEW, None)
    run("sync", "users")
    fakes.offsite.left_out["users", old] = LEFT_OUT

    code, out, _ = run("list", "users", "--remote")
    _, document, _ = run("list", "users", "--remote", "--json")

    assert code == 0
    rows = out.splitlines()[1:]
    assert rows[0].startswith(NEW) and "partial" not in rows[0]
    assert rows[1].startswith(OLD) and rows[1].endswith(f".globals.sql  partial: {SAID}")
    entries = {entry["name"]: entry for entry in json.loads(document)["backups"]}
    assert (entries[OLD]["partial"], entries[OLD]["left_out"]) == (True, list(LEFT_OUT))
    assert (entries[NEW]["partial"], entries[NEW]["left_out"]) == (False, [])


def test_a_partial_copy_whose_note_cannot_be_read_is_listed_partial_all_the_same(
    run: Run,  # noqa: F811
    fakes: Fakes,  # noqa: F811
) -> None:
    with_local_backup(fakes, OLD, LEFT_OUT)
    run("sync", "users")

    _, out, _ = run("list", "users", "--remote")

    assert out.splitlines()[1].endswith("partial: (what it left out could not be read)")


def test_a_restore_remote_of_a_partial_copy_says_so_and_records_it(
    run: Run,  # noqa: F811
    fakes: Fakes,  # noqa: F811
) -> None:
    old = with_local_backup(fakes, OLD, LEFT_OUT)
    run("sync", "users")
    fakes.offsite.left_out["users", old] = LEFT_OUT
    fakes.store.delete("users", old)
    fakes.server.databases = {"postgres", "app"}

    code, out, _ = run("restore", "users", OLD, "--remote", USERS_POSTGRES_DB="app")

    [safety] = fakes.store.names("users")
    assert code == 0
    assert out.splitlines()[-1] == (
        f"users: {OLD} is partial ({SAID}): what it left out is not in app now; "
        f"the safety dump {safety} holds it"
    )
    restored = fakes.run_log.records("users")[-1]
    assert (restored.operation, restored.partial, restored.left_out) == (
        Operation.RESTORE,
        True,
        LEFT_OUT,
    )


def test_restore_from_shared_of_a_partial_backup_says_so_a_whole_one_does_not(
    fakes: Fakes,  # noqa: F811
) -> None:
    fakes.server.databases = {"postgres", "app"}
    shared_partial = with_local_backup(fakes, OLD, LEFT_OUT)
    fakes.store.shared_copies.share("users", shared_partial)

    [partial] = fakes.restore().shared_copies([USERS], safety_dump=False)
    fakes.store.shared_copies.share("users", with_local_backup(fakes, NEW, None))
    [whole] = fakes.restore().shared_copies([USERS], safety_dump=False)

    assert partial.report is not None and partial.report.left_out == LEFT_OUT
    assert whole.report is not None and whole.report.left_out is None
    first, second = fakes.run_log.records("users")
    assert (first.partial, first.left_out) == (True, LEFT_OUT)
    assert (second.partial, second.left_out) == (False, ())


def test_the_history_of_a_partial_dump_says_partial_and_what_it_left_out(fakes: Fakes) -> None:  # noqa: F811

    fakes.take_backups()([USERS, database("orders")], tier=Tier.DAILY)

    [partial] = fakes.run_log.records("users")
    [whole] = fakes.run_log.records("orders")
    assert (partial.partial, partial.left_out) == (True, LEFT_OUT)
    assert (whole.partial, whole.left_out) == (False, ())


def record(**fields: object) -> RunRecord:
    at = datetime(2024, 7, 4, 9, tzinfo=UTC)
    return attrs.evolve(
        RunRecord(
            operation=Operation.DUMP,
            started_at=at,
            finished_at=at,
            outcome=Outcome.SUCCESS,
            backup=NEW,
            size_bytes=1234,
        ),
        **fields,
    )


def test_a_partial_record_is_written_with_partial_and_left_out_and_read_back() -> None:
    partial = record(partial=True, left_out=LEFT_OUT)
    totals = dict.fromkeys(Outcome, 0)

    line = history_lines.encoded(partial, totals)
    whole_line = history_lines.encoded(record(), totals)

    fields = json.loads(line)
    assert (fields["partial"], fields["left_out"]) == (True, list(LEFT_OUT))
    assert "partial" not in json.loads(whole_line) and "left_out" not in json.loads(whole_line)
    [read] = history_lines.parsed(line)[0]
    assert read.record == partial
    [strange] = history_lines.parsed(b'{"partial": "yes", "left_out": 3,' + whole_line[1:])[0]
    assert (strange.record.partial, strange.record.left_out) == (False, ())


def test_the_notification_of_a_partial_backup_says_what_it_left_out() -> None:
    _, body = message("users", record(partial=True, left_out=LEFT_OUT))
    _, whole = message("users", record())

    assert f"backup: {NEW} (1234 bytes)\npartial: {SAID}" in body
    assert "partial" not in whole
