from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from pg_backup_manager.adapters.postgres.libpq import with_hint
from pg_backup_manager.adapters.settings import Settings, controller_user
from pg_backup_manager.domain.errors import ConfigurationError
from pg_backup_manager.domain.monitoring.freshness import default_max_age

CWD = Path("/srv/app")
FULL_WIDTH_PORT = "".join(chr(0xFF10 + int(digit)) for digit in "57101")  # str.isdigit() says yes


def settings(**environ: str) -> Settings:
    return Settings.from_environ({"DATABASE_LIST": "users", **environ}, cwd=CWD)


def test_each_database_gets_the_readme_defaults() -> None:
    users = settings().config.databases[0]

    assert (users.identifier, users.host, users.port) == ("users", "users", 5432)
    assert (users.user, users.password, users.dbname) == ("postgres", "postgres", "postgres")


def test_per_service_variables_use_the_upper_cased_prefix_with_underscores() -> None:
    config = settings(
        DATABASE_LIST=" users , my-orders ",
        MY_ORDERS_POSTGRES_HOST="db.local",
        MY_ORDERS_POSTGRES_PORT="6543",
        MY_ORDERS_POSTGRES_USER="shop",
        MY_ORDERS_POSTGRES_PASSWORD="pw",
        MY_ORDERS_POSTGRES_DB="orders",
    ).config

    orders = config.database("my-orders")
    assert [d.identifier for d in config.databases] == ["users", "my-orders"]
    assert (orders.host, orders.port, orders.user, orders.password, orders.dbname) == (
        "db.local",
        6543,
        "shop",
        "pw",
        "orders",
    )


def test_a_password_file_gives_the_password(tmp_path: Path) -> None:
    secret = tmp_path / "users-password"
    secret.write_text("from-file\n")

    users = settings(USERS_POSTGRES_PASSWORD_FILE=str(secret)).config.databases[0]

    assert users.password == "from-file"


@pytest.mark.parametrize(
    "variable",
    ["USERS_POSTGRES_PASSWORD", "NOTIFY_URLS", "HEALTHCHECKS_URL", "USERS_HEALTHCHECKS_URL"],
)
def test_a_variable_and_its_file_both_set_is_a_configuration_error(
    tmp_path: Path, variable: str
) -> None:
    secret = tmp_path / "secret"
    secret.write_text("from-file\n")

    with pytest.raises(ConfigurationError, match=f"{variable} and {variable}_FILE are both set"):
        settings(**{variable: "json://example", f"{variable}_FILE": str(secret)})


def test_monitoring_urls_come_from_their_variables_or_files(tmp_path: Path) -> None:
    secret = tmp_path / "urls"
    secret.write_text("json://hooks.local/a, ntfy://topic\n")

    monitoring = settings(
        NOTIFY_URLS_FILE=str(secret),
        NOTIFY_ON="always",
        HEALTHCHECKS_URL="https://hc.local/ping/abc/",
        USERS_HEALTHCHECKS_URL="https://hc.local/ping/users",
        METRICS_PORT="9187",
        BACKUP_MAX_AGE="3600",
        BACKUP_ON_START="true",
    ).monitoring

    assert monitoring.notify_urls == ("json://hooks.local/a", "ntfy://topic")
    assert monitoring.notify_always and monitoring.backup_on_start
    assert monitoring.healthchecks_url == "https://hc.local/ping/abc"
    assert monitoring.healthchecks_urls == {"users": "https://hc.local/ping/users"}
    assert (monitoring.metrics_port, monitoring.metrics_address) == (9187, "127.0.0.1")
    assert monitoring.max_age is not None and monitoring.max_age.total_seconds() == 3600


@pytest.mark.parametrize(
    ("variable", "value"),
    [("NOTIFY_ON", "sometimes"), ("METRICS_PORT", "http"), ("BACKUP_MAX_AGE", "10")],
)
def test_bad_monitoring_settings_name_their_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=variable):
        settings(**{variable: value})


@pytest.mark.parametrize(
    ("value", "address"),
    [
        ("", "127.0.0.1"),
        ("0.0.0.0", "0.0.0.0"),
        (" 10.0.0.7 ", "10.0.0.7"),
        ("::", "::"),
        ("::1", "::1"),
        ("fe80::1%eth0", "fe80::1%eth0"),
    ],
)
def test_the_metrics_address_is_an_ip_address(value: str, address: str) -> None:
    assert settings(METRICS_ADDRESS=value).monitoring.metrics_address == address


@pytest.mark.parametrize(
    "value", ["not an ip", "localhost", "metrics.example", "256.0.0.1", "[::1]", "1.2.3.4:9187"]
)
def test_a_metrics_address_that_is_not_an_ip_address_is_refused_at_start(value: str) -> None:
    with pytest.raises(ConfigurationError, match=r"^METRICS_ADDRESS must be an IP address"):
        settings(METRICS_ADDRESS=value)


def test_the_password_is_not_in_the_repr_of_the_configuration() -> None:
    config = settings(USERS_POSTGRES_PASSWORD="hunter2-secret").config

    assert "hunter2-secret" not in repr(config)


def test_outside_production_paths_are_under_the_working_directory() -> None:
    layout = settings().config.layout

    assert layout.backup_dir("users") == CWD / "backup-data/data/users"
    assert layout.shared_dir("users") == CWD / "backup-data/shared/users"
    assert layout.database_dir("users") == CWD / "backup-data/databases/users"


def test_production_uses_the_readme_paths() -> None:
    layout = settings(MODE="production").config.layout

    assert str(layout.backup_dir("users")) == "/var/lib/postgresql/backup/data/users"
    assert str(layout.shared_dir("users")) == "/var/lib/postgresql/backup/shared/users"
    assert str(layout.database_dir("users")) == "/var/lib/postgresql/databases/users"


@pytest.mark.parametrize("variable", ["COPING_TO_SHARED", "COPYING_TO_SHARED"])
def test_copying_to_shared_is_read_in_both_spellings(variable: str) -> None:
    assert settings(**{variable: "true"}).config.copy_to_shared
    assert not settings(**{variable: "false"}).config.copy_to_shared


def test_server_production_asks_for_the_shared_directories() -> None:
    assert settings(SERVER="production").config.create_shared_dirs
    assert not settings().config.create_shared_dirs


def test_time_zone_and_schedule_have_defaults() -> None:
    read = settings()

    assert read.config.timezone == "UTC"
    assert str(read.schedule) == "0 3,9,15,21 * * * (UTC)"


def test_the_schedule_is_parsed_once_in_its_time_zone() -> None:
    read = settings(BACKUP_SCHEDULE="@daily", TZ="Europe/Berlin")

    assert str(read.schedule) == "0 0 * * * (Europe/Berlin)"


def test_the_controller_user_is_read_with_the_rest() -> None:
    assert controller_user({}) == "postgres"
    assert controller_user({"CONTROLLER_USER": " backup "}) == "backup"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"DATABASE_LIST": ""}, "DATABASE_LIST is empty"),
        ({"DATABASE_LIST": " , "}, "DATABASE_LIST is empty"),
        ({"DATABASE_LIST": "a/b"}, "invalid database identifier 'a/b'"),
        ({"DATABASE_LIST": "my-db,my_db"}, "MY_DB_POSTGRES_"),
        ({"USERS_POSTGRES_PORT": "http"}, "USERS_POSTGRES_PORT"),
        ({"USERS_POSTGRES_PORT": "70000"}, "USERS_POSTGRES_PORT"),
        ({"COPING_TO_SHARED": "maybe"}, "COPING_TO_SHARED"),
        ({"TZ": "Mars/Base"}, "Mars/Base"),
        ({"BACKUP_SCHEDULE": "0 25 * * *"}, "BACKUP_SCHEDULE"),
        ({"BACKUP_TIMEOUT": "-1"}, "BACKUP_TIMEOUT"),
        ({"USERS_POSTGRES_PASSWORD_FILE": "/nonexistent/pw"}, "USERS_POSTGRES_PASSWORD_FILE"),
    ],
)
def test_bad_configuration_names_the_variable(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        settings(**environ)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("BACKUP_TIMEOUT", "99999999"),
        ("BACKUP_TIMEOUT", "2147484"),
        ("BACKUP_TIMEOUT", "1e400"),
        ("BACKUP_TIMEOUT", "nan"),
        ("BACKUP_TIMEOUT", "0"),
        ("LOCK_TIMEOUT", "-1"),
        ("LOCK_TIMEOUT", "99999999"),
        ("USERS_POSTGRES_PORT", "²"),
        ("USERS_POSTGRES_PORT", FULL_WIDTH_PORT),
        ("BACKUP_PARALLELISM", "²"),
        ("MIN_BACKUPS_KEPT", "①"),
        ("BACKUP_TIMEOUT", FULL_WIDTH_PORT[:2]),
    ],
)
def test_numbers_out_of_range_or_not_in_ascii_digits_are_refused_by_name(
    variable: str, value: str
) -> None:
    with pytest.raises(ConfigurationError, match=variable):
        settings(**{variable: value})


def test_the_longest_timeout_is_a_week() -> None:
    assert settings(BACKUP_TIMEOUT="604800").dump_timeout == 604800.0
    assert settings(LOCK_TIMEOUT="0").lock_wait == 0.0


@pytest.mark.parametrize(
    ("content", "message"), [(b"\xff\xfe secret", "not UTF-8"), (b"", "empty"), (b"\n", "empty")]
)
def test_a_password_file_that_is_not_a_password_names_its_variable(
    tmp_path: Path, content: bytes, message: str
) -> None:
    secret = tmp_path / "secret"
    secret.write_bytes(content)

    with pytest.raises(ConfigurationError, match=f"USERS_POSTGRES_PASSWORD_FILE.*{message}"):
        settings(USERS_POSTGRES_PASSWORD_FILE=str(secret))


def test_a_password_from_a_file_remembers_its_variable_for_hints(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("pw\n")

    users = settings(USERS_POSTGRES_PASSWORD_FILE=str(secret)).config.databases[0]

    assert users.password_variable == "USERS_POSTGRES_PASSWORD_FILE"
    assert settings().config.databases[0].password_variable == "USERS_POSTGRES_PASSWORD"


def test_a_connection_hint_names_the_variables_of_the_service_and_of_its_password(
    tmp_path: Path,
) -> None:
    secret = tmp_path / "secret"
    secret.write_text("pw\n")
    environ = {"DATABASE_LIST": "my-db", "MY_DB_POSTGRES_PASSWORD_FILE": str(secret)}
    from_file = Settings.from_environ(environ, cwd=CWD).config.databases[0]
    default = settings(DATABASE_LIST="my-db").config.databases[0]

    hints = [with_hint("password authentication failed", d) for d in (from_file, default)]

    assert hints == [
        "password authentication failed "
        "(check MY_DB_POSTGRES_USER and MY_DB_POSTGRES_PASSWORD_FILE)",
        "password authentication failed (check MY_DB_POSTGRES_USER and MY_DB_POSTGRES_PASSWORD)",
    ]


def test_a_bin_dir_without_the_client_tools_is_a_configuration_error(tmp_path: Path) -> None:
    (tmp_path / "pg_dump").write_text("")

    with pytest.raises(ConfigurationError, match=r"PG_BIN_DIR.*pg_restore, psql"):
        settings(PG_BIN_DIR=str(tmp_path))
    with pytest.raises(ConfigurationError, match="PG_BIN_DIR=/nonexistent"):
        settings(PG_BIN_DIR="/nonexistent")


def test_the_heartbeat_lives_beside_the_backups_by_default() -> None:
    assert settings().heartbeat_file == CWD / "backup-data" / "data" / ".heartbeat"
    production = settings(MODE="production").heartbeat_file
    assert production == Path("/var/lib/postgresql/backup/data/.heartbeat")


@pytest.mark.parametrize(
    ("value", "taken"),
    [
        ("zstd", "zstd"),
        ("zstd:3", "zstd:3"),
        ("lz4", "lz4"),
        ("gzip:6", "gzip:6"),
        ("none", "none"),
        ("0", "0"),
        ("9", "9"),
        ("ZSTD:19", "zstd:19"),
        ("gzip:1", "gzip:1"),
        ("gzip:9", "gzip:9"),
        ("lz4:1", "lz4:1"),
        ("lz4:12", "lz4:12"),
        ("zstd:1", "zstd:1"),
        ("zstd:22", "zstd:22"),
        (" gzip:09 ", "gzip:9"),
    ],
)
def test_backup_compression_takes_each_methods_levels(value: str, taken: str) -> None:
    assert settings(BACKUP_COMPRESSION=value).compression == taken


@pytest.mark.parametrize(
    "value",
    [
        "brotli",
        "zstd:x",
        "gzip:",
        "zstd:",
        "10",
        "-1",
        "zstd:3:4",
        "gzip:1:2",
        "gzip:99",
        "gzip:0",
        "gzip:10",
        "lz4:0",
        "lz4:13",
        "zstd:0",
        "zstd:23",
        "zstd:-1",
        "none:0",
        "none:1",
        "zstd:long",
        "zstd:level=3",
        "zstd:level=3,long",
        "gzip:" + "9" * 400,
    ],
)
def test_a_compression_or_level_out_of_range_is_a_configuration_error(value: str) -> None:
    with pytest.raises(ConfigurationError, match=r"^BACKUP_COMPRESSION"):
        settings(BACKUP_COMPRESSION=value)


def test_a_level_out_of_range_is_refused_with_the_methods_range() -> None:
    with pytest.raises(ConfigurationError, match=r"gzip takes levels 1 to 9, not 'gzip:99'"):
        settings(BACKUP_COMPRESSION="gzip:99")


@pytest.mark.parametrize("seconds", ["60", "1209600", "5356800", "31622400", "315360000"])
def test_backup_max_age_goes_from_a_minute_to_ten_years(seconds: str) -> None:
    max_age = settings(BACKUP_MAX_AGE=seconds).monitoring.max_age

    assert max_age is not None and max_age.total_seconds() == float(seconds)


@pytest.mark.parametrize("schedule", ["@weekly", "@monthly", "@yearly", "0 3 29 2 *"])
def test_the_default_max_age_of_any_schedule_can_be_given_explicitly(schedule: str) -> None:
    default = default_max_age(
        settings(BACKUP_SCHEDULE=schedule).schedule, now=datetime(2024, 7, 4, tzinfo=UTC)
    )

    explicit = settings(BACKUP_SCHEDULE=schedule, BACKUP_MAX_AGE=f"{default.total_seconds():.0f}")

    assert explicit.monitoring.max_age == default


@pytest.mark.parametrize("seconds", ["59", "315360001", "1e9"])
def test_backup_max_age_out_of_range_names_its_range(seconds: str) -> None:
    with pytest.raises(ConfigurationError, match=r"BACKUP_MAX_AGE .* from 60 to 315360000"):
        settings(BACKUP_MAX_AGE=seconds)


def test_restores_use_up_to_four_jobs_unless_told() -> None:
    assert 1 <= settings().restore_jobs <= 4
    assert settings(RESTORE_JOBS="8").restore_jobs == 8
    assert settings().compression is None


def test_a_star_backs_up_every_database_of_the_server_but_those_excluded() -> None:
    main = settings(
        DATABASE_LIST="main", MAIN_POSTGRES_DB="*", MAIN_EXCLUDE_DATABASES=" scratch , my db,"
    ).config.databases[0]

    assert main.every_database and main.dbname == "postgres"
    assert main.excluded == {"scratch", "my db"}


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {"USERS_EXCLUDE_DATABASES": "scratch"},
            "USERS_EXCLUDE_DATABASES is set but USERS_POSTGRES_DB is not '\\*'",
        ),
        (
            {"USERS_POSTGRES_DB": "*", "USERS_EXCLUDE_DATABASES": "a" * 64},
            "in USERS_EXCLUDE_DATABASES: a PostgreSQL database name is 1 to 63 bytes",
        ),
    ],
)
def test_an_exclusion_without_a_star_or_of_no_possible_name_is_refused_by_name(
    environ: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        settings(**environ)


def test_a_hint_for_a_database_of_a_server_names_its_service_s_variables() -> None:
    main = settings(DATABASE_LIST="my-main", MY_MAIN_POSTGRES_DB="*").config.database("my-main/app")

    refused = with_hint("password authentication failed", main)
    dropped = with_hint('FATAL:  database "app" does not exist', main)

    assert refused.endswith("(check MY_MAIN_POSTGRES_USER and MY_MAIN_POSTGRES_PASSWORD)")
    assert dropped.endswith("(dropped from my-main's server since its run listed it?)")
