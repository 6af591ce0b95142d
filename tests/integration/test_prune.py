"""prune: retention judged from the timestamps in the backup names."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from .process import Controller
from .servers import PG_A

pytestmark = pytest.mark.integration


def backup_name(tier: str, age: timedelta) -> str:
    """The name a backup of ``tier`` taken ``age`` ago would have."""
    return f"file_{tier}_{(datetime.now(UTC) - age):%Y-%m-%dT%H:%M:%SZ}.dump"


def plant(controller: Controller, ident: str, names: list[str]) -> None:
    directory = controller.data_dir(ident)
    directory.mkdir(parents=True, exist_ok=True)
    for name in names:
        (directory / name).write_bytes(b"planted, not a real dump")


EXPIRED = [
    backup_name("daily", timedelta(days=10)),
    backup_name("weekly", timedelta(days=40)),
    backup_name("monthly", timedelta(days=400)),
]
KEPT = [
    backup_name("daily", timedelta(hours=2)),
    backup_name("daily", timedelta(days=5)),
    backup_name("weekly", timedelta(days=20)),
    backup_name("monthly", timedelta(days=300)),
    "notes.txt",
]


@pytest.fixture
def planted(controller: Controller) -> Controller:
    controller.add_database("a", PG_A)
    plant(controller, "a", EXPIRED + KEPT)
    return controller


def test_prune_dry_run_prints_the_plan_and_deletes_nothing(planted: Controller) -> None:
    run = planted("prune", "a", "--dry-run")

    assert run.returncode == 0, run
    assert planted.backups("a") == sorted(EXPIRED + KEPT)
    for name in EXPIRED:
        assert name in run.stdout, run


def test_prune_deletes_exactly_the_expired_backups(planted: Controller) -> None:
    run = planted("prune", "a")

    assert run.returncode == 0, run
    assert planted.backups("a") == sorted(KEPT)


def test_prune_keeps_the_newest_backup_even_when_it_has_expired(controller: Controller) -> None:
    controller.add_database("a", PG_A)
    newest = backup_name("daily", timedelta(days=10))
    plant(controller, "a", [backup_name("daily", timedelta(days=12)), newest])

    run = controller("prune", "a")

    assert run.returncode == 0, run
    assert controller.backups("a") == [newest]


def test_prune_all_prunes_every_database(controller: Controller) -> None:
    controller.add_database("a", PG_A)
    controller.add_database("b", PG_A)
    plant(controller, "a", EXPIRED + KEPT)
    plant(controller, "b", EXPIRED + KEPT)

    run = controller("prune", "--all")

    assert run.returncode == 0, run
    assert controller.backups("a") == sorted(KEPT)
    assert controller.backups("b") == sorted(KEPT)
