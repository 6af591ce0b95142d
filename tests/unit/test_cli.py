"""The command line through the real container, with every port overridden by a fake."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from dependency_injector import providers

from pg_backup_manager.adapters.postgres.pg_binaries import ClientTools
from pg_backup_manager.domain.names import BackupName
from pg_backup_manager.domain.offsite_copies import OffsiteCopy
from pg_backup_manager.domain.wal.ports import LockFile
from pg_backup_manager.entrypoints.containers import Container
from pg_backup_manager.entrypoints.main import main

from .fakes import GOOD_SHA256, Companion, Fakes

Run = Callable[..., tuple[int, str, str]]
ENVIRON = {
    "DATABASE_LIST": "users,orders",
    "USERS_POSTGRES_PASSWORD": "users-secret-pw",
    "ORDERS_POSTGRES_PASSWORD": "orders-secret-pw",
}
TOOLS = ClientTools(directory=Path("/usr/lib/postgresql/18/bin"), found_by="PATH", major=18)
STRAY = "file_daily_2024-07-03T21:00:00Z.dump"  # a hand copy off-site: no checksum


@pytest.fixture
def fakes() -> Fakes:
    return Fakes()


@pytest.fixture
def run(fakes: Fakes, capsys: pytest.CaptureFixture[str]) -> Iterator[Run]:
    def run(*argv: str, **environ: str) -> tuple[int, str, str]:
        container = Container(environ={**ENVIRON, **environ}, cwd=Path("/srv"))
        container.drop_root.override(providers.Object(lambda user: None))
        for name in (
            "clock",
            "dumper",
            "checker",
            "locks",
            "server",
            "restorer",
            "resetter",
            "notifier",
            "pings",
        ):
            getattr(container, name).override(getattr(fakes, name))
        container.history.override(fakes.run_log)
        container.globals_dumper.override(fakes.dumper)
        container.globals_reader.override(fakes.globals_reader)
        for name in ("catalog", "staging", "directories"):
            getattr(container, name).override(fakes.store)
        container.shared.override(fakes.store.shared_copies)
        container.offsite.override(fakes.offsite)
        container.downloads.override(fakes.downloads)
        container.client_tools.override(providers.Object(TOOLS))  # never runs pg_dump
        container.servers.server.override(fakes.servers)
        container.servers.stored.override(fakes.store)
        container.servers.listings.override(fakes.servers)
        code = main(list(argv), container=container)
        out, err = capsys.readouterr()
        return code, out, err

    yield run


def test_dump_creates_a_backup_and_says_its_name(run: Run, fakes: Fakes) -> None:
    code, out, _ = run("dump", "users")

    assert code == 0
    assert "users: created file_daily_2024-07-04T09:00:00Z.dump" in out
    assert fakes.store.names("users") == ["file_daily_2024-07-04T09:00:00Z.dump"]


def test_dump_all_goes_on_past_a_failure_and_exits_1(run: Run, fakes: Fakes) -> None:
    fakes.dumper.failing.add("users")

    code, out, err = run("dump", "--all")

    assert code == 1
    assert fakes.store.names("orders") != []
    assert "dumped 1 of 2 databases; failed: users" in out
    assert err.startswith("error: users: pg_dump")


def test_dump_shared_copies_the_archive(run: Run, fakes: Fakes) -> None:
    code, out, _ = run("dump", "orders", "--shared")

    assert code == 0
    assert "orders" in fakes.store.shared
    assert "copied to" in out


@pytest.mark.parametrize("argv", [("dump",), ("dump", "users", "--all"), ("prune",)])
def test_a_database_name_or_all_is_required_but_not_both(run: Run, argv: tuple[str, ...]) -> None:
    code, _, err = run(*argv)

    assert code == 2
    assert err.count("\n") == 1
    assert err.startswith("error: give one database name or --all")


def test_an_unknown_database_lists_the_known_ones(run: Run) -> None:
    code, _, err = run("list", "nope")

    assert code == 2
    assert err.strip() == "error: unknown database 'nope': DATABASE_LIST has users, orders"


def test_a_configuration_error_exits_2_with_one_line(run: Run) -> None:
    code, _, err = run("list", "users", DATABASE_LIST="")

    assert code == 2
    assert err.count("\n") == 1
    assert err.startswith("error: DATABASE_LIST is empty")


def test_list_shows_newest_first_with_tier_time_and_size(run: Run, fakes: Fakes) -> None:
    fakes.store.add("users", "file_daily_2024-07-03T09:00:00Z.dump", size=2048)
    fakes.store.add("users", "file_weekly_2024-07-06T09:00:00Z.dump", size=3 * 1024 * 1024)

    code, out, _ = run("list", "users")

    lines = out.splitlines()
    assert code == 0
    assert lines[0].split() == ["NAME", "TIER", "TAKEN", "(UTC)", "SIZE", "GLOBALS"]
    assert lines[1].split() == [
        "file_weekly_2024-07-06T09:00:00Z.dump",
        "weekly",
        "2024-07-06",
        "09:00:00",
        "3.0",
        "MiB",
        "-",
    ]
    assert lines[2].split()[0] == "file_daily_2024-07-03T09:00:00Z.dump"


def test_list_names_the_globals_file_of_each_backup_that_has_one(run: Run, fakes: Fakes) -> None:
    code, _, _ = run("dump", "users")
    assert code == 0

    code, out, _ = run("list", "users")

    assert out.splitlines()[1].split()[-1] == "file_daily_2024-07-04T09:00:00Z.globals.sql"


def test_list_of_a_database_without_backups_says_so(run: Run) -> None:
    code, out, _ = run("list", "users")

    assert code == 0
    assert out.startswith("no backups of users")


def test_restore_of_a_missing_backup_exits_1(run: Run) -> None:
    code, _, err = run("restore", "users", "file_daily_2020-01-01T00:00:00Z.dump")

    assert code == 1
    assert "no backup file_daily_2020-01-01T00:00:00Z.dump of users" in err


def test_restore_of_a_path_exits_2(run: Run) -> None:
    code, _, err = run("restore", "users", "../../etc/passwd")

    assert code == 2
    assert "not a backup name" in err


def test_restore_replaces_the_database(run: Run, fakes: Fakes) -> None:
    fakes.store.add("users", "file_daily_2024-07-03T09:00:00Z.dump")

    code, out, _ = run("restore", "users", "file_daily_2024-07-03T09:00:00Z.dump")

    assert code == 0
    assert "restored file_daily_2024-07-03T09:00:00Z.dump" in out
    assert "postgres" in fakes.server.databases


def test_restore_with_globals_names_the_roles_it_created_and_those_it_left(
    run: Run, fakes: Fakes
) -> None:
    code, _, _ = run("dump", "users")
    assert code == 0

    code, out, _ = run("restore", "users", "file_daily_2024-07-04T09:00:00Z.dump", "--with-globals")

    assert code == 0
    assert "users: created roles app_owner from the backup's globals" in out
    assert "users: left existing roles as they are: postgres" in out


def test_restore_with_globals_of_a_backup_without_them_exits_1_and_says_why(
    run: Run, fakes: Fakes
) -> None:
    fakes.store.add("users", "file_daily_2024-07-03T09:00:00Z.dump")

    code, _, err = run("restore", "users", "file_daily_2024-07-03T09:00:00Z.dump", "--with-globals")

    assert code == 1
    assert "has no globals file" in err
    assert len(err.strip().splitlines()) == 1


def test_restore_from_shared_all_goes_on_past_a_missing_archive(run: Run, fakes: Fakes) -> None:
    fakes.store.add("orders", "file_daily_2024-07-03T09:00:00Z.dump")
    fakes.store.shared_copies.share("orders", fakes.store.backups("orders")[0].name)

    code, out, err = run("restore-from-shared", "--all")

    assert code == 1
    assert "orders: restored" in out
    assert "error: users: no shared archive" in err


def test_prune_dry_run_prints_the_plan_and_deletes_nothing(run: Run, fakes: Fakes) -> None:
    fakes.store.add(
        "users", "file_daily_2024-07-03T09:00:00Z.dump", "file_daily_2024-06-01T09:00:00Z.dump"
    )

    code, out, _ = run("prune", "users", "--dry-run")

    assert code == 0
    assert "would delete file_daily_2024-06-01T09:00:00Z.dump (daily, 33.0 days old" in out
    assert "1 of 2 backups would be deleted" in out
    assert fakes.store.actions == []


def test_resetwal_refuses_a_running_server_with_exit_1(run: Run, fakes: Fakes) -> None:
    fakes.resetter.lock = LockFile(pid=77, alive=True)

    code, _, err = run("resetwal", "users", "--force")

    assert code == 1
    assert "running" in err
    assert fakes.resetter.resets == []


def test_resetwal_prints_the_tool_output_and_the_next_steps(run: Run, fakes: Fakes) -> None:
    code, out, _ = run("resetwal", "users")

    assert code == 0
    assert "Write-ahead log reset" in out
    assert "controller dump users" in out


def test_no_output_ever_contains_a_password(run: Run, fakes: Fakes) -> None:
    fakes.dumper.failing.add("users")

    outputs = [run("dump", "--all"), run("list", "users"), run("restore", "users", "x")]

    for _, out, err in outputs:
        assert "secret-pw" not in out + err


@pytest.mark.parametrize(
    "command",
    [
        "dump",
        "restore",
        "restore-from-shared",
        "list",
        "resetwal",
        "prune",
        "start",
        "health",
        "verify",
    ],
)
def test_every_command_has_help(run: Run, command: str) -> None:
    code, out, _ = run(command, "--help")

    assert code == 0
    assert f"Usage: controller {command}" in out


def test_a_busy_database_exits_4(run: Run, fakes: Fakes) -> None:
    fakes.locks.busy.add("users")

    code, _, err = run("dump", "users")

    assert code == 4
    assert err.startswith("error: users: users is busy")


def test_verify_reports_each_backup_and_exits_3_on_a_corrupt_one(run: Run, fakes: Fakes) -> None:
    good, bad = "file_daily_2024-07-03T09:00:00Z.dump", "file_daily_2024-07-02T09:00:00Z.dump"
    fakes.store.add("users", good, bad)
    fakes.checker.hashes[bad] = "b" * 64
    for name in (good, bad):
        fakes.store.checksums["users", BackupName.parse(name)] = GOOD_SHA256

    code, out, err = run("verify", "users")

    assert code == 3
    assert f"users: ok {good}" in out
    assert f"users: FAILED {bad}" in out
    assert err.startswith("error: 1 backup(s) failed verification")


def test_restore_of_a_corrupt_archive_exits_3(run: Run, fakes: Fakes) -> None:
    name = "file_daily_2024-07-03T09:00:00Z.dump"
    fakes.store.add("users", name)
    fakes.checker.unreadable.add(name)

    code, _, err = run("restore", "users", name)

    assert code == 3
    assert "damaged" in err


def test_restore_says_where_the_replaced_content_went(run: Run, fakes: Fakes) -> None:
    name = "file_daily_2024-07-03T09:00:00Z.dump"
    fakes.store.add("users", name)
    fakes.server.databases.add("postgres")

    code, out, _ = run("restore", "users", name, USERS_POSTGRES_DB="postgres")

    assert code == 0
    assert "users: saved the content it replaced as file_daily_2024-07-04T09:00:00Z.dump" in out


def test_no_command_prints_the_help_alone_and_exits_2(run: Run) -> None:
    code, out, err = run()

    assert code == 2
    assert "Usage: controller" in out and "Commands:" in out
    assert not err and not out.startswith("error")


@pytest.mark.skipif(os.geteuid() != 0, reason="only root becomes another user")
def test_help_works_as_root_without_the_user_to_become(capsys: pytest.CaptureFixture[str]) -> None:
    environ = {**ENVIRON, "CONTROLLER_USER": "no-such-user-here"}

    codes = [
        main(argv, container=Container(environ=environ, cwd=Path("/srv")))
        for argv in (["--help"], ["dump", "--help"], ["list", "users"])
    ]

    assert codes == [0, 0, 2]
    assert "there is no user 'no-such-user-here'" in capsys.readouterr().err


def test_sync_uploads_what_is_missing_and_says_so(run: Run, fakes: Fakes) -> None:
    fakes.store.add("users", "file_daily_2024-07-03T09:00:00Z.dump")
    fakes.store.checksums["users", BackupName.parse("file_daily_2024-07-03T09:00:00Z.dump")] = (
        GOOD_SHA256
    )

    code, out, err = run("sync", "users")

    assert code == 0, err
    assert out.splitlines() == [
        "users: uploaded file_daily_2024-07-03T09:00:00Z.dump (1.2 KiB)",
        "users: 1 uploaded, 0 already off-site",
    ]


def test_a_failed_sync_is_one_line_naming_what_stays_local_and_exits_1(
    run: Run, fakes: Fakes
) -> None:
    fakes.store.add("users", "file_daily_2024-07-03T09:00:00Z.dump")
    fakes.store.checksums["users", BackupName.parse("file_daily_2024-07-03T09:00:00Z.dump")] = (
        GOOD_SHA256
    )
    fakes.offsite.fail_after = 0

    code, _, err = run("sync", "users")

    assert code == 1
    assert err.splitlines() == [
        "error: users: upload of file_daily_2024-07-03T09:00:00Z.dump failed: connection "
        "reset; 1 backup(s) not off-site, kept locally"
    ]


def test_list_remote_shows_the_off_site_copies(run: Run, fakes: Fakes) -> None:
    fakes.store.add("users", "file_daily_2024-07-03T09:00:00Z.dump")
    fakes.store.checksums["users", BackupName.parse("file_daily_2024-07-03T09:00:00Z.dump")] = (
        GOOD_SHA256
    )
    run("sync", "users")

    code, out, _ = run("list", "users", "--remote")
    json_code, document, _ = run("list", "--all", "--remote", "--json")

    assert code == 0
    assert out.splitlines()[1].split()[0] == "file_daily_2024-07-03T09:00:00Z.dump"
    assert json_code == 0
    assert json.loads(document)["backups"] == [
        {
            "database": "users",
            "name": "file_daily_2024-07-03T09:00:00Z.dump",
            "tier": "daily",
            "taken_at": "2024-07-03T09:00:00Z",
            "size_bytes": 1234,
            "sha256": GOOD_SHA256,
            "globals": None,
            "location": "s3://bucket/prefix/users/file_daily_2024-07-03T09:00:00Z.dump",
            "usable": True,
            "problem": None,
            "partial": False,
            "left_out": [],
        }
    ]


def test_list_remote_marks_an_object_the_controller_would_not_restore(
    run: Run, fakes: Fakes
) -> None:
    fakes.offsite.plant("users", BackupName.parse(STRAY), size=12)

    code, out, _ = run("list", "users", "--remote")
    json_code, document, _ = run("list", "users", "--remote", "--json")

    assert code == 0
    [row] = out.splitlines()[1:]
    assert row.startswith(STRAY)
    assert "UNUSABLE: no checksum object" in row
    assert json_code == 0
    [entry] = json.loads(document)["backups"]
    assert (entry["usable"], entry["problem"][:18]) == (False, "no checksum object")


def test_list_remote_of_a_database_without_copies_says_where_it_looked(run: Run) -> None:
    code, out, _ = run("list", "orders", "--remote")

    assert code == 0
    assert out == "no off-site copies of orders in s3://bucket/prefix/orders/\n"


def test_off_site_commands_without_offsite_url_exit_2_and_say_what_to_set(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for argv in (["sync", "users"], ["list", "users", "--remote"]):
        container = Container(environ=ENVIRON, cwd=Path("/srv"))
        container.drop_root.override(providers.Object(lambda user: None))

        code = main(argv, container=container)

        assert code == 2
        assert capsys.readouterr().err.startswith("error: OFFSITE_URL is not set")


def test_config_never_shows_the_s3_credentials(run: Run) -> None:
    code, out, _ = run(
        "config",
        OFFSITE_URL="s3://backups/prod",
        AWS_ACCESS_KEY_ID="AKIDEXAMPLE7",
        AWS_SECRET_ACCESS_KEY="wJalrXUtnFEMI-secret",
    )

    assert code == 0
    assert "AKIDEXAMPLE7" not in out and "wJalrXUtnFEMI-secret" not in out
    assert "s3://backups/prod" in out


def test_dump_with_offsite_url_uploads_the_new_backup(run: Run, fakes: Fakes) -> None:
    code, out, err = run("dump", "users", OFFSITE_URL="s3://bucket/prefix")

    assert code == 0, err
    assert out.splitlines() == [
        "users: created file_daily_2024-07-04T09:00:00Z.dump (1.2 KiB)",
        "users: uploaded file_daily_2024-07-04T09:00:00Z.dump (1.2 KiB)",
    ]


def test_dump_whose_upload_fails_keeps_the_backup_says_so_on_one_line_and_exits_1(
    run: Run, fakes: Fakes
) -> None:
    fakes.offsite.fail_after = 0

    code, out, err = run("dump", "users", OFFSITE_URL="s3://bucket/prefix")

    assert code == 1
    assert out.splitlines() == ["users: created file_daily_2024-07-04T09:00:00Z.dump (1.2 KiB)"]
    assert err.splitlines() == [
        "error: users: file_daily_2024-07-04T09:00:00Z.dump exists locally but is not "
        "off-site yet (1 backup(s) not off-site, kept locally; the next run uploads them): "
        "upload of file_daily_2024-07-04T09:00:00Z.dump failed: connection reset"
    ]
    assert fakes.store.names("users") == ["file_daily_2024-07-04T09:00:00Z.dump"]


def test_dump_without_offsite_url_never_builds_the_store(
    capsys: pytest.CaptureFixture[str], fakes: Fakes
) -> None:
    container = Container(environ=ENVIRON, cwd=Path("/srv"))
    container.drop_root.override(providers.Object(lambda user: None))
    for name in ("clock", "dumper", "checker", "locks", "server", "run_log"):
        getattr(container, name).override(getattr(fakes, name))
    container.globals_dumper.override(fakes.dumper)
    for name in ("catalog", "staging"):
        getattr(container, name).override(fakes.store)

    code = main(["dump", "users"], container=container)

    assert code == 0, capsys.readouterr().err
    assert fakes.offsite.actions == []


def test_restore_remote_restores_an_off_site_copy_that_is_not_local(run: Run, fakes: Fakes) -> None:
    name = "file_daily_2024-07-03T09:00:00Z.dump"
    fakes.store.add("users", name)
    fakes.store.checksums["users", BackupName.parse(name)] = GOOD_SHA256
    run("sync", "users")
    fakes.store.delete("users", BackupName.parse(name))

    code, out, err = run("restore", "users", name, "--remote", "--no-safety-dump")

    assert code == 0, err
    assert f"restored {name}" in out
    assert fakes.downloads.actions == [("fetch", "users", name), ("remove", "users", name)]


def test_verify_remote_of_a_tampered_copy_exits_3(run: Run, fakes: Fakes) -> None:
    name = "file_daily_2024-07-03T09:00:00Z.dump"
    fakes.store.add("users", name)
    fakes.store.checksums["users", BackupName.parse(name)] = GOOD_SHA256
    run("sync", "users")
    fakes.checker.hashes[name] = "b" * 64

    code, out, err = run("verify", "users", name, "--remote")

    assert code == 3
    assert f"users: FAILED {name}" in out
    assert err.startswith("error: 1 backup(s) failed verification")


def test_prune_remote_applies_retention_to_the_off_site_copies(run: Run, fakes: Fakes) -> None:
    for name in ("file_daily_2024-05-01T03:00:00Z.dump", "file_daily_2024-07-03T03:00:00Z.dump"):
        fakes.store.add("users", name)
        fakes.store.checksums["users", BackupName.parse(name)] = GOOD_SHA256
    run("sync", "users")

    code, out, err = run("prune", "users", "--remote", OFFSITE_URL="s3://bucket/prefix")

    assert code == 0, err
    assert out.splitlines()[-1] == "users: 1 of 2 off-site copies deleted"
    assert ("delete", "users", "file_daily_2024-05-01T03:00:00Z.dump") in fakes.offsite.actions
    assert len(fakes.store.names("users")) == 2


def test_prune_remote_reports_an_unusable_object_and_leaves_it_alone(
    run: Run, fakes: Fakes
) -> None:
    for name in ("file_daily_2024-05-01T03:00:00Z.dump", "file_daily_2024-04-20T03:00:00Z.dump"):
        fakes.store.add("users", name)
        fakes.store.checksums["users", BackupName.parse(name)] = GOOD_SHA256
    run("sync", "users")
    fakes.offsite.plant("users", BackupName.parse(STRAY), size=12)

    code, out, err = run("prune", "users", "--remote", OFFSITE_URL="s3://bucket/prefix")

    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("users: keep   file_daily_2024-05-01T03:00:00Z.dump (daily, ")
    assert lines[1].startswith("users: delete file_daily_2024-04-20T03:00:00Z.dump")
    assert lines[2] == (
        f"users: leave  {STRAY} (not usable: no checksum object ({STRAY}.sha256); "
        "not counted, never deleted)"
    )
    assert lines[3] == "users: 1 of 2 off-site copies deleted; 1 unusable left alone"
    assert ("delete", "users", STRAY) not in fakes.offsite.actions


def test_sync_completes_a_copy_that_lost_its_companions_and_says_so(run: Run, fakes: Fakes) -> None:
    name = BackupName.parse("file_daily_2024-07-03T09:00:00Z.dump")
    fakes.store.add("users", str(name))
    fakes.store.checksums["users", name] = GOOD_SHA256
    run("sync", "users")
    fakes.offsite.lose("users", name, Companion.CHECKSUM)

    code, out, err = run("sync", "users")

    assert code == 0, err
    assert out.splitlines() == [
        f"users: completed {name}: its missing companions uploaded",
        "users: 0 uploaded, 1 completed, 0 already off-site",
    ]


def test_prune_remote_with_offsite_retention_off_exits_2_and_deletes_nothing(
    run: Run, fakes: Fakes
) -> None:
    code, _, err = run(
        "prune", "users", "--remote", OFFSITE_URL="s3://bucket/prefix", OFFSITE_RETENTION="false"
    )

    assert code == 2
    assert err.startswith("error: OFFSITE_RETENTION=false: every off-site copy is kept")
    assert len(err.strip().splitlines()) == 1
    assert not [a for a in fakes.offsite.actions if a[0] == "delete"]


KEPT_BY_VALUES = ["file_daily_2024-07-03T09:00:00Z.dump", "file_weekly_2024-05-25T09:00:00Z.dump"]
PAST_THE_VALUES = ["file_daily_2024-06-30T09:00:00Z.dump", "file_weekly_2024-04-13T09:00:00Z.dump"]


def test_prune_dry_run_and_prune_follow_the_keep_variables(run: Run, fakes: Fakes) -> None:
    fakes.store.add("users", *KEPT_BY_VALUES, *PAST_THE_VALUES)
    keep = {"KEEP_DAILY_DAYS": "3", "KEEP_WEEKLY": "1"}

    dry_code, dry, _ = run("prune", "users", "--dry-run", **keep)
    after_dry = fakes.store.names("users")
    code, out, err = run("prune", "users", **keep)

    assert dry_code == 0
    assert sorted(after_dry) == sorted(KEPT_BY_VALUES + PAST_THE_VALUES)
    assert dry.splitlines() == [
        "users: keep   file_daily_2024-07-03T09:00:00Z.dump (daily, 1.0 days old, among the "
        "newest: always kept)",
        "users: would delete file_daily_2024-06-30T09:00:00Z.dump (daily, 4.0 days old, past 3 "
        "days)",
        "users: keep   file_weekly_2024-05-25T09:00:00Z.dump (weekly, 40.0 days old, among the "
        "1 newest of its tier)",
        "users: would delete file_weekly_2024-04-13T09:00:00Z.dump (weekly, 82.0 days old, past "
        "the 1 newest of its tier)",
        "users: 2 of 4 backups would be deleted",
    ]
    assert code == 0, err
    assert "users: 2 of 4 backups deleted" in out
    assert sorted(fakes.store.names("users")) == sorted(KEPT_BY_VALUES)


def test_prune_remote_follows_offsite_keep_and_else_the_local_values(
    run: Run, fakes: Fakes
) -> None:
    for name in KEPT_BY_VALUES + PAST_THE_VALUES:
        fakes.store.add("users", name)
        fakes.store.checksums["users", BackupName.parse(name)] = GOOD_SHA256
    keep = {"KEEP_DAILY_DAYS": "3", "KEEP_WEEKLY": "1", "OFFSITE_URL": "s3://bucket/prefix"}
    run("sync", "users", **keep)

    code, out, err = run("prune", "users", "--remote", OFFSITE_KEEP_DAILY_DAYS="5", **keep)

    assert code == 0, err
    assert out.splitlines()[-1] == "users: 1 of 4 off-site copies deleted"
    assert "file_daily_2024-06-30T09:00:00Z.dump (daily, 4.0 days old, kept 5 days)" in out
    deleted = [a for a in fakes.offsite.actions if a[0] == "delete"]
    assert deleted == [("delete", "users", "file_weekly_2024-04-13T09:00:00Z.dump")]
    assert len(fakes.store.names("users")) == 4


@pytest.mark.parametrize(
    ("environ", "variable"),
    [
        ({"KEEP_WEEKLY_DAYS": "0"}, "KEEP_WEEKLY_DAYS"),
        ({"OFFSITE_KEEP_MONTHLY": "10001"}, "OFFSITE_KEEP_MONTHLY"),
        ({"KEEP_DAILY": "3", "KEEP_DAILY_DAYS": "3"}, "KEEP_DAILY"),
        ({"KEEP_DAILY_DAYS": "31"}, "KEEP_WEEKLY_DAYS"),
    ],
)
def test_a_bad_keep_value_stops_prune_with_one_line_naming_it_and_deletes_nothing(
    run: Run, fakes: Fakes, environ: dict[str, str], variable: str
) -> None:
    fakes.store.add("users", *KEPT_BY_VALUES, *PAST_THE_VALUES)

    code, _, err = run("prune", "--all", **environ)

    assert code == 2
    assert err.startswith("error: ") and err.count("\n") == 1
    assert variable in err
    assert sorted(fakes.store.names("users")) == sorted(KEPT_BY_VALUES + PAST_THE_VALUES)


def test_status_says_how_many_lines_of_the_history_it_could_not_read(
    run: Run, fakes: Fakes
) -> None:
    run("dump", "users")
    run("dump", "orders")
    fakes.run_log.unreadable["users"] = 2

    code, out, err = run("status", "--all")
    json_code, document, _ = run("status", "--all", "--json")

    assert code == 0 and json_code == 0, err
    users, orders = out.split("\norders:")
    assert "  history:          2 unreadable line(s) skipped" in users.splitlines()
    assert "history:" not in orders
    found = {
        d["database"]: d["history_unreadable_lines"] for d in json.loads(document)["databases"]
    }
    assert found == {"users": 2, "orders": 0}


def test_status_says_off_site_missing_from_the_history_without_asking_the_store(
    run: Run, fakes: Fakes
) -> None:
    fakes.offsite.fail_after = 0
    run("dump", "users", OFFSITE_URL="s3://bucket/prefix")
    fakes.offsite.unreachable = True  # status must not need the store

    code, out, err = run("status", "users", OFFSITE_URL="s3://bucket/prefix")
    json_code, document, _ = run("status", "users", "--json", OFFSITE_URL="s3://bucket/prefix")

    assert code == 0 and json_code == 0, err
    assert out.splitlines()[-1] == (
        "  off-site: missing (1 of 1 backup(s) not off-site, the newest among them; "
        "last sync failed at 2024-07-04T09:00:00Z: "
        "upload of file_daily_2024-07-04T09:00:00Z.dump failed: connection reset)"
    )
    [users] = json.loads(document)["databases"]
    assert users["offsite"]["state"] == "missing"
    assert users["offsite"]["missing_backups"] == ["file_daily_2024-07-04T09:00:00Z.dump"]


def test_status_without_offsite_url_says_nothing_of_off_site(run: Run, fakes: Fakes) -> None:
    run("dump", "users")

    code, out, _ = run("status", "users")
    _, document, _ = run("status", "users", "--json")

    assert code == 0
    assert "off-site" not in out
    assert "offsite" not in json.loads(document)["databases"][0]


def test_a_failed_dump_is_recorded_then_told_and_pings_no_dead_mans_switch(
    run: Run, fakes: Fakes
) -> None:
    fakes.dumper.failing.add("users")

    code, _, _ = run("dump", "users")

    assert code == 1
    [(identifier, record)] = fakes.notifier.told
    assert identifier == "users" and record.error is not None and "pg_dump" in record.error
    assert fakes.run_log.records("users") == [record]
    assert fakes.pings.pinged == []


def test_list_json_carries_each_backups_checksum_and_null_without_one(
    run: Run, fakes: Fakes
) -> None:
    with_sum, without = (
        "file_daily_2024-07-03T09:00:00Z.dump",
        "file_daily_2024-07-02T09:00:00Z.dump",
    )
    fakes.store.add("users", with_sum, without)
    fakes.store.checksums["users", BackupName.parse(with_sum)] = GOOD_SHA256
    fakes.store.checksums.pop(("users", BackupName.parse(without)), None)

    code, document, _ = run("list", "users", "--json")

    assert code == 0
    entries = json.loads(document)["backups"]
    assert [(e["name"], e["sha256"]) for e in entries] == [(with_sum, GOOD_SHA256), (without, None)]


def test_restore_from_shared_of_one_database_raises_its_own_error_alone(run: Run) -> None:
    code, out, err = run("restore-from-shared", "users")

    assert code == 1
    assert out == ""
    assert err.startswith("error: no shared archive") and "restored" not in err


STAR_NEW = "file_daily_2024-07-04T09:00:00Z.dump"  # the fake clock's
STAR = {"DATABASE_LIST": "main,users", "MAIN_POSTGRES_DB": "*"}


def test_dump_of_the_service_backs_up_each_database_and_list_names_each(
    fakes: Fakes, run: Run
) -> None:
    fakes.servers.has["main"] = ["app", "my db"]

    code, out, _ = run("dump", "main", **STAR)
    _, listed, _ = run("list", **STAR)

    assert code == 0
    assert out.splitlines()[:2] == [
        f"main/app: created {STAR_NEW} (1.2 KiB)",
        f"main/my db: created {STAR_NEW} (1.2 KiB)",
    ]
    assert "main/app:\n" in listed and "main/my db:\n" in listed


def test_restoring_the_service_of_every_database_is_exit_2_naming_how(
    fakes: Fakes, run: Run
) -> None:
    code, _, err = run("restore", "main", STAR_NEW, **STAR)

    assert code == 2
    assert (
        err == "error: 'main' backs up every database of its server: name one, as "
        "'main/<database>' (see 'controller list main')\n"
    )


def test_list_remote_of_a_server_s_service_finds_its_databases_off_site_on_a_new_host(
    fakes: Fakes, run: Run
) -> None:
    copy = OffsiteCopy(name=BackupName.parse(STAR_NEW), size=10, sha256=GOOD_SHA256)
    for identifier in ("main/app", "main/my db"):
        fakes.offsite.copied[identifier] = {copy.name: copy}

    code, out, _ = run("list", "main", "--remote", **STAR, OFFSITE_URL="s3://bucket/prefix")

    assert code == 0
    assert [line for line in out.splitlines() if line.endswith(":")] == [
        "main/app:",
        "main/my db:",
    ]
