"""A service's exclusions and ``<SERVICE>_DUMP_ARGS``: read at start as pg_dump would read
them, refused when they would break the controller, passed on by full name otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

from pg_backup_manager.adapters.configuration.dump_args import (
    Argument,
    dump_args,
    dump_options,
    patterns,
)
from pg_backup_manager.adapters.configuration.pg_dump_options import OPTIONS
from pg_backup_manager.adapters.settings import Settings
from pg_backup_manager.domain.dump_options import DumpOptions
from pg_backup_manager.domain.errors import ConfigurationError

VARIABLE = "USERS_DUMP_ARGS"
CWD = Path("/srv")


def refusal(text: str) -> str:
    with pytest.raises(ConfigurationError) as raised:
        dump_args(text, VARIABLE)
    return str(raised.value)


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("--file=/tmp/x", "--file"),
        ("--file /tmp/x", "--file"),
        ("--fi=/tmp/x", "--fi"),  # ambiguous (--file, --filter): refused all the same
        ("-f/tmp/x", "-f (pg_dump's --file)"),
        ("-f /tmp/x", "-f (pg_dump's --file)"),
        ("-xf/tmp/x", "-f (pg_dump's --file)"),
        ("-x -f /tmp/x", "-f (pg_dump's --file)"),
        ("--form=d", "--form (pg_dump's --format)"),
        ("-Fd", "-F (pg_dump's --format)"),
        ("-j 4", "-j (pg_dump's --jobs)"),
        ("--jobs=4", "--jobs"),
        ("-Z9", "-Z (pg_dump's --compress)"),
        ("--compress=gzip:9", "--compress"),
        ("-d otherdb", "-d (pg_dump's --dbname)"),
        ("--dbn=otherdb", "--dbn (pg_dump's --dbname)"),
        ("-h elsewhere", "-h (pg_dump's --host)"),
        ("--ho=elsewhere", "--ho (pg_dump's --host)"),
        ("-p 5433", "-p (pg_dump's --port)"),
        ("-U someone", "-U (pg_dump's --username)"),
        ("--user=someone", "--user (pg_dump's --username)"),
        ("-W", "-W (pg_dump's --password)"),
        ("-w", "-w (pg_dump's --no-password)"),
        ("--role=admin", "--role"),
        ("-a", "-a (pg_dump's --data-only)"),
        ("--data-o", "--data-o (pg_dump's --data-only)"),
        ("-s", "-s (pg_dump's --schema-only)"),
        ("--schema-only", "--schema-only"),
        ("--no-data", "--no-data"),
        ("--section=data", "--section"),
        ("-c", "-c (pg_dump's --clean)"),
        ("--clean", "--clean"),
        ("-C", "-C (pg_dump's --create)"),
        ("-O", "-O (pg_dump's --no-owner)"),
        ("--no-ow", "--no-ow (pg_dump's --no-owner)"),
        ("--if-exists", "--if-exists"),
        ("-v", "-v (pg_dump's --verbose)"),
        ("--inserts", "--inserts"),
        ("--attribute-inserts", "--attribute-inserts (pg_dump's --column-inserts)"),
        ("--rows-per-insert=10", "--rows-per-insert"),
        ("--include-foreign-data=srv", "--include-foreign-data"),
        ("--binary-upgrade", "--binary-upgrade"),
        ("--filter=/etc/filters", "--filter"),
        ("--snapshot=00000003-1", "--snapshot"),
        ("--extra-float-digits=-15", "--extra-float-digits"),
        ("-T audit", "-T (pg_dump's --exclude-table)"),
        ("--exclude-table-data=audit", "--exclude-table-data"),
        ("-N tmp", "-N (pg_dump's --exclude-schema)"),
        ("--version", "--version"),
    ],
)
def test_an_option_that_would_break_the_controller_is_refused_in_any_spelling(
    text: str, named: str
) -> None:
    said = refusal(text)

    assert said.startswith(f"{VARIABLE}: {named} is refused: ")
    assert "\n" not in said


def test_a_refusal_never_repeats_the_value_it_was_given() -> None:
    said = refusal("--dbname=postgresql://app:hunter2-secret@db/app")

    assert "hunter2" not in said and "postgresql://" not in said


def test_a_refused_exclusion_names_the_services_own_variable() -> None:
    assert refusal("-T audit").endswith("use USERS_EXCLUDE_TABLES")


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("--no-s", "ambiguous (--no-schema, --no-security-labels, --no-statistics, "),
        ("--frobnicate", "it is not an option of pg_dump"),
        ("-X", "it is not an option of pg_dump"),
        ("--no-comments=yes", "it takes no value"),
        ("--lock-wait-timeout", "it needs a value"),
        ("--lock-wait-timeout=", "it needs a value"),
        ("-E", "it needs a value"),
        ("appdb", "would be taken by pg_dump for a database name"),
        ("--no-comments -- appdb", "it ends pg_dump's options"),
        ("--table='orders", "cannot be split into words as a shell would: no closing quotation"),
    ],
)
def test_what_pg_dump_would_not_read_as_intended_is_refused(text: str, why: str) -> None:
    said = refusal(text)

    assert said.startswith(f"{VARIABLE}")
    assert why in said


def test_a_word_with_a_control_character_is_refused() -> None:
    assert "control character" in refusal('--table="a\nb"')


def test_allowed_options_are_passed_on_by_full_name_one_word_each() -> None:
    text = "--lock-wait-timeout 60s --no-com -x -bE UTF8 --table='Sales 2024' -n app"

    found = dump_args(text, VARIABLE)

    assert found == (
        Argument("--lock-wait-timeout=60s"),
        Argument("--no-comments"),
        Argument("--no-privileges"),
        Argument("--blobs"),
        Argument("--encoding=UTF8"),
        Argument("--table=Sales 2024", narrows=True),
        Argument("--schema=app", narrows=True),
    )


def test_no_shell_reads_the_words_only_split_as_one_would() -> None:
    found = dump_args("--table='$(touch /tmp/pwned); x' --exclude-extension=\"a b\"", VARIABLE)

    assert [argument.text for argument in found] == [
        "--table=$(touch /tmp/pwned); x",
        "--exclude-extension=a b",
    ]


def test_options_that_leave_something_out_make_a_backup_partial() -> None:
    found = dump_args("-B --no-unlogged-table-data --no-sync", VARIABLE)

    assert [argument.narrows for argument in found] == [True, True, False]


def test_a_value_that_starts_with_a_dash_is_a_value_as_pg_dump_reads_it() -> None:
    assert dump_args("--exclude-extension -x", VARIABLE) == (
        Argument("--exclude-extension=-x", narrows=True),
    )


def test_each_option_of_the_table_is_named_once() -> None:
    names = [name for option in OPTIONS for name in option.names]
    letters = [option.letter for option in OPTIONS if option.letter]

    assert len(names) == len(set(names))
    assert len(letters) == len(set(letters))


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("audit_log, archive.*", ("audit_log", "archive.*")),
        (' "Sales, 2024" ,public."Q""1"', ('"Sales, 2024"', 'public."Q""1"')),
        ("a,,b,", ("a", "b")),
        ("", ()),
    ],
)
def test_patterns_are_split_on_commas_outside_double_quotes(
    text: str, found: tuple[str, ...]
) -> None:
    assert patterns(text, "USERS_EXCLUDE_TABLES") == found


def test_a_pattern_with_an_unclosed_double_quote_is_refused_naming_its_variable() -> None:
    with pytest.raises(ConfigurationError, match=r"^USERS_EXCLUDE_TABLES: a double quote is not"):
        patterns('"Sales, 2024', "USERS_EXCLUDE_TABLES")


def test_exclusions_come_first_and_all_of_them_leave_something_out() -> None:
    options = dump_options(
        tables=("audit",),
        table_data=("logs",),
        schemas=("tmp",),
        extra=(Argument("--no-comments"), Argument("--no-blobs", narrows=True)),
    )

    assert options.arguments == (
        "--exclude-table=audit",
        "--exclude-table-data=logs",
        "--exclude-schema=tmp",
        "--no-comments",
        "--no-blobs",
    )
    assert options.left_out == (
        "--exclude-table=audit",
        "--exclude-table-data=logs",
        "--exclude-schema=tmp",
        "--no-blobs",
    )
    assert options.whole() == DumpOptions(arguments=("--no-comments",))


def test_the_settings_give_each_service_its_own_dump_options() -> None:
    environ = {
        "DATABASE_LIST": "users,orders",
        "USERS_EXCLUDE_TABLES": "audit",
        "USERS_DUMP_ARGS": "--no-comments",
    }

    users, orders = Settings.from_environ(environ, cwd=CWD).config.databases

    assert users.dump_options.arguments == ("--exclude-table=audit", "--no-comments")
    assert users.dump_options.partial
    assert orders.dump_options == DumpOptions()


def test_a_refused_option_stops_the_settings_naming_the_variable() -> None:
    environ = {"DATABASE_LIST": "users,orders", "ORDERS_DUMP_ARGS": "-j4"}

    with pytest.raises(ConfigurationError, match=r"^ORDERS_DUMP_ARGS: -j \(pg_dump's --jobs\)"):
        Settings.from_environ(environ, cwd=CWD)
