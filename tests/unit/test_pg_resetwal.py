"""Where ``resetwal`` finds the data directory in a mounted volume (no tool runs here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pg_backup_manager.adapters.postgres.pg_binaries import PgBinaries
from pg_backup_manager.adapters.postgres.pg_resetwal import PgResetWal
from pg_backup_manager.domain.errors import ControllerError
from pg_backup_manager.domain.wal.ports import LockFile

DEAD_PID = 999_999_999


def resetter() -> PgResetWal:
    return PgResetWal(binaries=PgBinaries(root=Path("/nowhere")), timeout=1)


def data_directory(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "PG_VERSION").write_text("18\n")
    (path / "postmaster.pid").write_text(f"{DEAD_PID}\n/var/lib/postgresql/18/docker\n")
    return path


def test_the_volume_itself_is_the_data_directory_up_to_17(tmp_path: Path) -> None:
    volume = data_directory(tmp_path / "volume")

    assert resetter().server_lock(volume) == LockFile(pid=DEAD_PID, alive=False)


def test_the_data_directory_of_18_is_found_in_major_slash_docker(tmp_path: Path) -> None:
    volume = tmp_path / "volume"
    data_directory(volume / "18" / "docker")

    assert resetter().server_lock(volume) == LockFile(pid=DEAD_PID, alive=False)


def test_several_versions_in_one_volume_are_refused_by_name(tmp_path: Path) -> None:
    volume = tmp_path / "volume"
    data_directory(volume / "17" / "docker")
    data_directory(volume / "18" / "docker")

    with pytest.raises(ControllerError, match=r"several versions \(17/docker, 18/docker\)"):
        resetter().server_lock(volume)


def test_a_volume_without_pg_version_says_where_it_looked(tmp_path: Path) -> None:
    (tmp_path / "volume").mkdir()

    with pytest.raises(ControllerError, match="no PG_VERSION there or in <major>/docker"):
        resetter().server_lock(tmp_path / "volume")
