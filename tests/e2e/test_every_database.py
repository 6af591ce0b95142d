"""``<SERVICE>_POSTGRES_DB=*`` with the controller image against the stack's PostgreSQL 18:
every database of the server backed up into a directory of its own (an awkward name
among them), an excluded one never; a database created between two runs picked up, one
dropped kept with its backup; one database restored alone, the others untouched.

The host is the image run with ``docker run --rm`` on the host network (``ImageHost``),
its backup volume a directory of the test. The server's own ``postgres`` and ``appdb``
(which other tests load) are excluded too, so that the run backs up this test's
databases only.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from pg_backup_manager.domain.database_names import segment

from ..integration.process import BACKUP_NAME_PATTERN, Run
from ..integration.servers import psql
from .hosts import ImageHost
from .stack import E2E_PG18, ContainerStack

pytestmark = pytest.mark.integration


def quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def create(name: str) -> None:
    psql(E2E_PG18, f"CREATE DATABASE {quoted(name)}", db="postgres")
    psql(
        E2E_PG18,
        "CREATE TABLE marker (n int); INSERT INTO marker SELECT generate_series(1, 100)",
        db=name,
    )


def drop(name: str) -> None:
    psql(E2E_PG18, f"DROP DATABASE IF EXISTS {quoted(name)} WITH (FORCE)", db="postgres")


def rows(name: str) -> str:
    return psql(E2E_PG18, "SELECT count(*) FROM marker", db=name).strip()


def created_names(run: Run) -> dict[str, str]:
    """database -> backup, from the ``pg18/<database>: created <name> (<size>)`` lines."""
    pattern = rf"^pg18/(?P<db>.+): created (?P<name>{BACKUP_NAME_PATTERN}) \("
    return {m["db"]: m["name"] for m in re.finditer(pattern, run.stdout, re.M)}


@pytest.fixture
def names() -> Iterator[dict[str, str]]:
    tag = uuid.uuid4().hex[:8]
    made = {
        "plain": f"every_{tag}_one",
        "awkward": f"Every {tag}: two",
        "dropped": f"every_{tag}_gone",
        "excluded": f"every_{tag}_skip",
        "later": f"every_{tag}_new",
    }
    try:
        for key in ("plain", "awkward", "dropped", "excluded"):
            create(made[key])
        yield made
    finally:
        for name in made.values():
            drop(name)


def test_the_image_backs_up_every_database_of_a_postgresql_18_server_and_restores_one(
    container_stack: ContainerStack, names: dict[str, str], tmp_path: Path
) -> None:
    host = ImageHost(
        container_stack,
        tmp_path / "backup",
        {
            "DATABASE_LIST": "pg18",
            "PG18_POSTGRES_HOST": "127.0.0.1",
            "PG18_POSTGRES_PORT": str(E2E_PG18.port),
            "PG18_POSTGRES_PASSWORD": E2E_PG18.password,
            "PG18_POSTGRES_DB": "*",
            "PG18_EXCLUDE_DATABASES": f"postgres, appdb, {names['excluded']}",
            "MODE": "production",
        },
        (),
        E2E_PG18.password,
    )
    service = host.backups / "data" / "pg18"

    first = host("dump", "pg18")
    drop(names["dropped"])
    create(names["later"])
    second = host("dump", "pg18")
    refused = host("dump", f"pg18/{names['excluded']}")
    kept = host("list", f"pg18/{names['dropped']}", "--json")
    psql(E2E_PG18, "DELETE FROM marker WHERE n > 10", db=names["plain"])
    psql(E2E_PG18, "DELETE FROM marker WHERE n > 20", db=names["awkward"])
    backup = created_names(first)[names["plain"]]
    restored = host("restore", f"pg18/{names['plain']}", backup)
    status = host("status", "pg18", "--json")

    assert first.returncode == 0, first
    assert set(created_names(first)) == {names[k] for k in ("plain", "awkward", "dropped")}
    for key in ("plain", "awkward", "dropped"):
        stored = service / segment(names[key]) / created_names(first)[names[key]]
        assert stored.is_file(), stored
    assert (service / segment(names["awkward"])).name.startswith("%45very%20"), segment(
        names["awkward"]
    )
    assert not (service / segment(names["excluded"])).exists()
    assert second.returncode == 0, second
    assert set(created_names(second)) == {names[k] for k in ("plain", "awkward", "later")}
    databases = json.loads((service / "databases.json").read_text(encoding="utf-8"))
    assert names["later"] in json.dumps(databases, ensure_ascii=False)
    assert names["dropped"] not in json.dumps(databases, ensure_ascii=False)
    assert refused.returncode == 2, refused
    assert "PG18_EXCLUDE_DATABASES" in refused.stderr, refused
    assert kept.returncode == 0, kept
    assert created_names(first)[names["dropped"]] in kept.stdout, kept
    assert restored.returncode == 0, restored
    assert rows(names["plain"]) == "100"
    assert rows(names["awkward"]) == "20"  # the other databases are not touched
    assert status.returncode == 0, status
    blocks = {block["database"]: block for block in json.loads(status.stdout)["databases"]}
    assert blocks[f"pg18/{names['dropped']}"]["on_server"] is False, blocks
    assert blocks[f"pg18/{names['later']}"]["on_server"] is True, blocks
