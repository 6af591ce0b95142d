from __future__ import annotations

import json

import pytest

from pg_backup_manager.adapters.postgres.db_properties import properties_from, split_guc_list


@pytest.mark.parametrize(
    ("stored", "elements"),
    [
        ('"$user", public, "eu,sales"', ["$user", "public", "eu,sales"]),
        ('"Weird ""Schema"" $x", public', ['Weird "Schema" $x', "public"]),
        ("a,b", ["a", "b"]),
        ('"a b"', ["a b"]),
        ("", []),
    ],
)
def test_list_settings_are_split_as_the_server_splits_them(
    stored: str, elements: list[str]
) -> None:
    assert split_guc_list(stored) == elements


def describe(**database: object) -> str:
    row = {"datcollate": "C", "datctype": "C", "datconnlimit": 7, "datacl": None, **database}
    return json.dumps(
        {
            "database": row,
            "owner": "app owner",
            "comment": None,
            "encoding": "UTF8",
            "tablespace": "pg_default",
            "grants": [],
            "settings": [
                {"role": None, "config": ['search_path="$user", public, "eu,sales"']},
            ],
        }
    )


def test_the_script_names_its_database_by_variable_so_the_scratch_one_can_take_it() -> None:
    properties = properties_from(describe())

    assert properties is not None
    assert 'ALTER DATABASE :"a" OWNER TO "app owner";' in properties.script
    assert 'ALTER DATABASE :"a" CONNECTION LIMIT 7;' in properties.script
    assert 'COMMENT ON DATABASE :"a" IS NULL;' in properties.script
    assert "SET search_path TO '$user', 'public', 'eu,sales';" in properties.script


def test_nothing_described_is_no_properties() -> None:
    assert properties_from("\n") is None
