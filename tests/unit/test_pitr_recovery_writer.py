"""Where ``recover --into`` may write: never among the backups. Only files under pytest's
tmp_path are touched."""

from __future__ import annotations

from pathlib import Path

import pytest

from pg_backup_manager.adapters.pitr.recovery.writer import RecoveryWriter
from pg_backup_manager.domain.errors import ConfigurationError
from pg_backup_manager.domain.model import Layout

from .fakes import FakeBackupVerifier


@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    for name in ("data", "shared", "databases"):
        (tmp_path / name).mkdir()
    (tmp_path / "data" / "svc" / "pitr").mkdir(parents=True)
    (tmp_path / "backups").symlink_to(tmp_path / "data")
    return Layout(
        data_root=tmp_path / "data",
        shared_root=tmp_path / "shared",
        databases_root=tmp_path / "databases",
    )


def _tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.mark.parametrize(
    "into",
    [
        "data/svc/pitr/inside",
        "data",
        "shared/svc/new/18/docker",
        "backups/svc/inside",  # a symbolic link to the data root
        "databases/../data/svc/x",
    ],
)
def test_an_into_among_the_backups_is_refused_in_one_line_before_anything_is_made(
    layout: Layout, tmp_path: Path, into: str
) -> None:
    before = _tree(tmp_path)

    with (
        pytest.raises(ConfigurationError, match="where the backups are") as refused,
        RecoveryWriter(layout=layout, verifier=FakeBackupVerifier()).writing(
            "svc", tmp_path / into
        ),
    ):
        pytest.fail("the block must not run")

    assert "\n" not in str(refused.value)
    assert _tree(tmp_path) == before


def test_an_into_beside_the_backups_is_written(layout: Layout, tmp_path: Path) -> None:
    into = tmp_path / "databases" / "svc-new" / "18" / "docker"

    with RecoveryWriter(layout=layout, verifier=FakeBackupVerifier()).writing("svc", into) as draft:
        (draft.path / "PG_VERSION").write_text("18\n")

    assert (into / "PG_VERSION").read_text() == "18\n"


def test_the_scratch_writer_of_verify_writes_beside_the_streams(
    layout: Layout, tmp_path: Path
) -> None:
    into = tmp_path / "data" / "svc" / "pitr" / ".verify.123"

    with RecoveryWriter(layout=layout, verifier=FakeBackupVerifier(), scratch=True).writing(
        "svc", into
    ) as draft:
        (draft.path / "PG_VERSION").write_text("15\n")

    assert (into / "PG_VERSION").is_file()
