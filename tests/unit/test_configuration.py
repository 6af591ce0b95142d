"""Each variable is declared once (``adapters/configuration``): the parsing, ``config``
and the README's configuration tables all come from that declaration."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from pg_backup_manager.adapters.config_report import effective
from pg_backup_manager.adapters.configuration.table import EVERY, SERVICE, markdown
from pg_backup_manager.adapters.configuration.variable import Shown, Variable, env_prefix
from pg_backup_manager.adapters.settings import Settings, controller_user
from pg_backup_manager.domain.model import Database

README = Path(__file__).resolve().parents[2] / "README.md"
CWD = Path("/srv/app")
# Every feature on, so that every variable is read.
ENVIRON = {
    "DATABASE_LIST": "users",
    "OFFSITE_URL": "s3://backups/prod",
    "AWS_ACCESS_KEY_ID": "key-id",
    "AWS_SECRET_ACCESS_KEY": "key",
}


class RecordingEnviron(Mapping[str, str]):
    """An environment that remembers every variable asked of it."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values = values
        self.asked: set[str] = set()

    def __getitem__(self, name: str) -> str:
        self.asked.add(name)
        return self.values[name]

    def __contains__(self, name: object) -> bool:
        self.asked.add(str(name))
        return name in self.values

    def __iter__(self) -> Iterator[str]:
        raise AssertionError("the settings ask for variables by name, never list them all")

    def __len__(self) -> int:
        return len(self.values)


def configuration_tables() -> list[str]:
    """Return each Markdown table of the README's "Configuration" section, in order."""
    section = README.read_text().split("## Configuration\n", 1)[1].split("\n### ", 1)[0]
    tables, rows = [], []
    for line in [*section.splitlines(), ""]:
        if line.startswith("|"):
            rows.append(line)
        elif rows:
            tables.append("\n".join(rows) + "\n")
            rows = []
    return tables


def names(tables: list[str]) -> list[str]:
    """Return the first cell of each row of ``tables``: the variable's name."""
    return [row.split(" | ")[0] for table in tables for row in table.splitlines()[2:]]


def test_the_readmes_configuration_tables_name_every_declared_variable_and_no_other() -> None:
    declared = names([markdown(EVERY), markdown(SERVICE)])

    assert names(configuration_tables()) == declared


def test_the_readmes_configuration_tables_are_the_declarations() -> None:
    expected = [markdown(EVERY), markdown(SERVICE)]

    # On a difference, paste: python -m pg_backup_manager.adapters.configuration.table
    assert configuration_tables() == expected


def test_the_settings_read_every_declared_variable_and_no_other() -> None:
    environ = RecordingEnviron(ENVIRON)

    Settings.from_environ(environ, cwd=CWD)
    controller_user(environ)

    declared = {v.name for v in EVERY} | {v.of("users").name for v in SERVICE}
    files = {f"{v.name}_FILE" for v in EVERY if v.from_file}
    files |= {f"{v.of('users').name}_FILE" for v in SERVICE if v.from_file}
    assert environ.asked - files == declared


@pytest.mark.parametrize(
    "variable", [v for v in EVERY if v.default], ids=lambda variable: variable.name
)
def test_a_variable_set_to_its_declared_default_changes_nothing(variable: Variable[Any]) -> None:
    unset = Settings.from_environ(ENVIRON, cwd=CWD)
    given = Settings.from_environ({**ENVIRON, variable.name: variable.default}, cwd=CWD)

    assert given == unset


def test_a_service_variable_set_to_its_declared_default_changes_nothing() -> None:
    defaults = {v.of("users").name: v.default for v in SERVICE if v.default}

    given = Settings.from_environ({**ENVIRON, **defaults}, cwd=CWD).config.databases
    unset = Settings.from_environ(ENVIRON, cwd=CWD).config.databases

    assert [reached(d) for d in given] == [reached(d) for d in unset]


def reached(database: Database) -> tuple[str, int, str, str, str]:
    """Return how ``database`` is reached (not which variable gave its password)."""
    return (database.host, database.port, database.user, database.dbname, database.password)


def test_config_says_a_file_only_of_variables_that_are_read_from_one() -> None:
    environ = {"S3_ENDPOINT_URL": "http://minio:9000", "S3_ENDPOINT_URL_FILE": "/run/x"}

    [entry] = [e for e in effective(environ, ()) if e.variable == "S3_ENDPOINT_URL"]

    assert (entry.value, entry.source) == ("http://minio:9000", "environment")


def test_config_never_shows_a_secret_declared_so() -> None:
    environ = {v.name: "secret-value-42" for v in EVERY} | {
        v.of("users").name: "secret-value-42" for v in SERVICE
    }

    shown = {e.variable: e.value for e in effective(environ, ("users",))}

    secret = [v.name for v in EVERY if v.shown is Shown.SECRET]
    secret += [v.of("users").name for v in SERVICE if v.shown is Shown.SECRET]
    assert len(secret) == 4  # a service's password, the two AWS keys, METRICS_PASSWORD
    assert {name: shown[name] for name in secret} == {name: "***" for name in secret}


def test_config_never_shows_a_default_password_either() -> None:
    [entry] = [e for e in effective({}, ("users",)) if e.variable == "USERS_POSTGRES_PASSWORD"]

    assert (entry.value, entry.source) == ("***", "default")


def test_the_variable_prefix_is_upper_case_with_underscores() -> None:
    assert env_prefix("my-users_db") == "MY_USERS_DB"
