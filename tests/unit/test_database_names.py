"""Databases of a server: ``<service>/<database>`` for people, a safe directory for files."""

from __future__ import annotations

from pathlib import PurePath

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pg_backup_manager.domain.database_names import (
    RESERVED,
    check_database_name,
    name_of,
    segment,
    segments,
    split,
)
from pg_backup_manager.domain.errors import ConfigurationError, UnknownDatabaseError
from pg_backup_manager.domain.model import Config

from .fakes import LAYOUT, database

# Every name a PostgreSQL server can hold: 1 to 63 bytes of UTF-8, no NUL.
pg_names = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"), min_size=1
).filter(lambda name: len(name.encode()) <= 63)
# What the service's directory holds beside its databases' directories.
SERVICE_OWN = ("pitr", "history.jsonl", "databases.json", ".lock", "resetwal-2024-07-04T09:00:00Z")


@given(pg_names)
def test_a_segment_gives_its_name_back(name: str) -> None:
    assert name_of(segment(name)) == name


@given(pg_names, pg_names)
def test_two_names_never_share_a_segment_even_where_case_is_ignored(a: str, b: str) -> None:
    if a != b:
        assert segment(a).lower() != segment(b).lower()


@given(pg_names)
def test_a_segment_is_never_a_path_of_its_own_nor_a_name_of_the_service(name: str) -> None:
    text = segment(name)

    assert text not in {"", ".", ".."}
    assert "/" not in text and "\\" not in text and "\0" not in text
    assert not text.startswith(".")
    assert text not in SERVICE_OWN and text not in RESERVED
    assert PurePath(text).name == text


@given(st.text(max_size=80))
def test_only_one_spelling_of_a_name_is_a_segment(text: str) -> None:
    name = name_of(text)

    assert name is None or segment(name) == text


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("users", "users"),
        ("my db", "my%20db"),
        (".", "%2E"),
        ("..", "%2E%2E"),
        ("a/b", "a%2Fb"),
        ("pitr", "%70itr"),
        ("Sales", "%53ales"),
        ("50%", "50%25"),
        ("café", "caf%C3%A9"),
        ("history.jsonl", "history%2Ejsonl"),
    ],
)
def test_awkward_names_become_these_segments(name: str, expected: str) -> None:
    assert segment(name) == expected


@pytest.mark.parametrize("text", ["%61", "%2e", "pitr", "%2", "", "a/b", ".hidden", "%00"])
def test_other_spellings_and_the_service_s_own_names_are_no_segment(text: str) -> None:
    assert name_of(text) is None


@pytest.mark.parametrize("name", ["", "a" * 64, "é" * 32, "a\0b"])
def test_a_name_a_server_cannot_hold_is_refused(name: str) -> None:
    with pytest.raises(ConfigurationError, match="1 to 63 bytes"):
        check_database_name(name)


def test_a_63_byte_name_is_a_name() -> None:
    assert check_database_name("é" * 31 + "a") == "é" * 31 + "a"


def test_a_database_of_a_server_lives_in_its_own_directory_under_its_service() -> None:
    assert segments("main/my db") == ("main", "my%20db")
    assert LAYOUT.backup_dir("main/a/b") == PurePath("/backup/data/main/a%2Fb")
    assert LAYOUT.shared_dir("main/..") == PurePath("/backup/shared/main/%2E%2E")
    assert LAYOUT.backup_dir("users") == PurePath("/backup/data/users")


def test_the_first_slash_separates_the_service_from_the_database() -> None:
    assert split("main/a/b") == ("main", "a/b")
    assert split("users") == ("users", None)


def test_config_names_a_database_of_a_server_as_service_slash_name() -> None:
    main = database("main", dbname="postgres", every_database=True)
    config = Config(
        databases=(main,),
        layout=LAYOUT,
        production=False,
        create_shared_dirs=False,
        copy_to_shared=False,
        timezone="UTC",
    )

    found = config.database("main/a/b")

    assert (found.identifier, found.dbname, found.service) == ("main/a/b", "a/b", "main")
    assert found.of_server and not found.every_database and not found.wal_archive


def test_a_database_of_a_service_that_backs_up_one_is_unknown() -> None:
    config = Config(
        databases=(database("users", database_variable="USERS_POSTGRES_DB"),),
        layout=LAYOUT,
        production=False,
        create_shared_dirs=False,
        copy_to_shared=False,
        timezone="UTC",
    )

    with pytest.raises(UnknownDatabaseError, match="'users' backs up one database"):
        config.database("users/other")
