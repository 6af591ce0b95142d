"""Wrong names, paths, passwords and settings: a one-line error, the right exit code, no harm.

Every run also checks (see ``Controller``) that no traceback and no configured
password reach the output.
"""

from __future__ import annotations

import pytest

from pg_backup_manager.adapters.monitoring.run_history import HISTORY_NAME

from .data import table_fingerprints
from .process import Controller, assert_one_line_error
from .servers import PG_A, PG_B, PgServers, psql

pytestmark = pytest.mark.integration

A_BACKUP_NAME = "file_daily_2024-07-04T09:00:00Z.dump"


def files_under(controller: Controller) -> list[str]:
    """Every file under the backup root but the run histories, which record failures too."""
    root = controller.workdir / "backup-data"
    if not root.exists():
        return []
    return sorted(str(p) for p in root.rglob("*") if p.is_file() and p.name != HISTORY_NAME)


@pytest.fixture
def pg_with_data(pg: PgServers) -> PgServers:
    psql(pg.a, "CREATE TABLE precious AS SELECT generate_series(1, 10) AS id;")
    return pg


def test_an_unknown_database_is_a_usage_error_that_names_the_known_ones(
    controller: Controller,
) -> None:
    controller.add_database("alpha", PG_A)
    controller.add_database("beta", PG_B)

    run = controller("dump", "gamma")

    assert_one_line_error(run, 2)
    assert "alpha" in run.stderr and "beta" in run.stderr, run
    assert files_under(controller) == []


@pytest.mark.parametrize(
    "name", [f"../{A_BACKUP_NAME}", f"sub/{A_BACKUP_NAME}", "/etc/passwd", "..", "../../x.dump"]
)
def test_a_backup_name_that_is_a_path_is_a_usage_error_and_restores_nothing(
    pg_with_data: PgServers, controller: Controller, name: str
) -> None:
    before = table_fingerprints(pg_with_data.a)
    controller.add_database("a", pg_with_data.a)

    run = controller("restore", "a", name)

    assert_one_line_error(run, 2)
    assert table_fingerprints(pg_with_data.a) == before


def test_restoring_a_backup_that_does_not_exist_fails_and_changes_nothing(
    pg_with_data: PgServers, controller: Controller
) -> None:
    before = table_fingerprints(pg_with_data.a)
    controller.add_database("a", pg_with_data.a)

    run = controller("restore", "a", A_BACKUP_NAME)

    assert_one_line_error(run, 1)
    assert A_BACKUP_NAME in run.stderr, run
    assert table_fingerprints(pg_with_data.a) == before


def test_restore_from_shared_without_a_shared_file_fails_and_changes_nothing(
    pg_with_data: PgServers, controller: Controller
) -> None:
    before = table_fingerprints(pg_with_data.a)
    controller.add_database("a", pg_with_data.a)

    run = controller("restore-from-shared", "a")

    assert_one_line_error(run, 1)
    assert table_fingerprints(pg_with_data.a) == before


def test_a_wrong_password_fails_the_dump_and_leaves_no_file(
    pg: PgServers, controller: Controller
) -> None:
    controller.add_database("a", pg.a, password="not-the-password-5e1f")

    run = controller("dump", "a")

    assert_one_line_error(run, 1)
    assert files_under(controller) == []
    [record] = (controller.data_dir("a") / HISTORY_NAME).read_text().splitlines()
    assert '"outcome": "failure"' in record and "password authentication failed" in record
    assert "not-the-password-5e1f" not in record


@pytest.mark.parametrize("args", [("list", "a"), ("dump", "--all")])
def test_an_empty_database_list_is_a_configuration_error(
    controller: Controller, args: tuple[str, ...]
) -> None:
    controller.env["DATABASE_LIST"] = ""

    run = controller(*args)

    assert_one_line_error(run, 2)
    assert "DATABASE_LIST" in run.stderr, run


@pytest.mark.parametrize("database_list", ["a/b", "a,../x"])
def test_an_identifier_that_is_not_a_name_is_a_configuration_error(
    controller: Controller, database_list: str
) -> None:
    controller.env["DATABASE_LIST"] = database_list

    run = controller("dump", "--all")

    assert_one_line_error(run, 2)
    assert files_under(controller) == []
    assert [p for p in controller.workdir.rglob("*") if p.name in {"b", "x"}] == []


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("BACKUP_TIMEOUT", "99999999"),
        ("A_POSTGRES_PORT", "²"),
        ("BACKUP_PARALLELISM", "²"),
        ("MIN_BACKUPS_KEPT", "①"),
        ("PG_BIN_DIR", "/nonexistent"),
        ("BACKUP_MAX_AGE", "315360001"),
        ("BACKUP_COMPRESSION", "gzip:99"),
        ("METRICS_ADDRESS", "not an ip"),
        ("S3_FORCE_PATH_STYLE", "banana"),  # checked without OFFSITE_URL too
        ("OFFSITE_RETENTION", "banana"),
        # Nothing looser than the README writes (issue 19's review).
        ("KEEP_DAILY", " 5"),
        ("KEEP_WEEKLY_DAYS", "30 "),
        ("OFFSITE_KEEP_MONTHLY", "\t12"),
        ("HOOK_TIMEOUT", " 3"),
        ("VERIFY_REMOTE", "yes"),
        ("COPING_TO_SHARED", "1"),
        ("A_WAL_ARCHIVE", "on"),
        ("BACKUP_SCHEDULE", "0 3\n* * *"),
        ("A_BACKUP_SCHEDULE", "@daily\n"),
        ("VERIFY_SCHEDULE", "30 4 * * 0\r"),
        ("BASE_BACKUP_SCHEDULE", "0 1\x1b * * *"),
        ("PRE_BACKUP_COMMAND", "none"),
        ("A_POST_BACKUP_COMMAND", "nonE"),
    ],
)
def test_configuration_out_of_range_stops_every_command_with_exit_2(
    controller: Controller, variable: str, value: str
) -> None:
    controller.add_database("a", PG_A)
    controller.env[variable] = value

    runs = [controller("dump", "a"), controller("start")]

    for run in runs:
        assert_one_line_error(run, 2)
        assert variable in run.stderr and "unexpected" not in run.stderr, run
    assert files_under(controller) == []


@pytest.mark.parametrize(("content", "said"), [(b"\xff\xfe\xfd", "not UTF-8"), (b"", "empty")])
def test_a_password_file_that_holds_no_password_is_a_configuration_error(
    controller: Controller, content: bytes, said: str
) -> None:
    controller.add_database("a", PG_A)
    del controller.env["A_POSTGRES_PASSWORD"]
    secret = controller.workdir / "secret"
    secret.write_bytes(content)
    controller.env["A_POSTGRES_PASSWORD_FILE"] = str(secret)

    run = controller("dump", "a")

    assert_one_line_error(run, 2)
    assert "A_POSTGRES_PASSWORD_FILE" in run.stderr and said in run.stderr, run


def test_a_wrong_password_from_a_file_names_the_file_variable(
    pg: PgServers, controller: Controller
) -> None:
    controller.add_database("a", pg.a)
    del controller.env["A_POSTGRES_PASSWORD"]
    secret = controller.workdir / "secret"
    secret.write_text("not-the-password-7c2a\n")
    controller.env["A_POSTGRES_PASSWORD_FILE"] = str(secret)

    run = controller("dump", "a")

    assert_one_line_error(run, 1)
    assert "A_POSTGRES_PASSWORD_FILE" in run.stderr, run
    assert "not-the-password-7c2a" not in run.output


def test_no_command_prints_the_help_and_exits_2(controller: Controller) -> None:
    run = controller()

    assert run.returncode == 2, run
    assert "Usage: controller" in run.stdout and not run.stderr, run


def test_health_ignores_a_heartbeat_another_user_planted(controller: Controller) -> None:
    controller.add_database("a", PG_A)
    planted = controller.workdir.parent / f"{controller.workdir.name}-planted" / "heartbeat"
    planted.parent.mkdir()
    planted.parent.chmod(0o755)
    planted.write_text("")  # owned by root, fresh
    controller.env["HEARTBEAT_FILE"] = str(planted)

    run = controller("health")

    assert_one_line_error(run, 1)
    assert "not the scheduler's heartbeat" in run.stderr, run
