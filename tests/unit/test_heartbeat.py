from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from pg_backup_manager.adapters.monitoring.heartbeat import FileHeartbeat
from pg_backup_manager.domain.errors import ControllerError


def test_a_fresh_beat_has_an_age_of_about_nothing(tmp_path: Path) -> None:
    heartbeat = FileHeartbeat(path=tmp_path / "beat")

    heartbeat.beat()

    assert heartbeat.age() < 5


def test_an_old_beat_shows_its_age(tmp_path: Path) -> None:
    heartbeat = FileHeartbeat(path=tmp_path / "beat")
    heartbeat.beat()
    an_hour_ago = time.time() - 3600
    os.utime(tmp_path / "beat", (an_hour_ago, an_hour_ago))

    assert 3590 < heartbeat.age() < 3700


def test_without_any_beat_there_is_no_age_but_an_error(tmp_path: Path) -> None:
    with pytest.raises(ControllerError, match="not running"):
        FileHeartbeat(path=tmp_path / "beat").age()


def test_a_heartbeat_that_cannot_be_written_never_fails_the_scheduler(tmp_path: Path) -> None:
    FileHeartbeat(path=tmp_path / "missing-dir" / "beat").beat()


def test_a_heartbeat_through_a_symbolic_link_is_not_the_schedulers(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").write_text("")
    (tmp_path / "beat").symlink_to(tmp_path / "elsewhere")
    heartbeat = FileHeartbeat(path=tmp_path / "beat")

    heartbeat.beat()

    with pytest.raises(ControllerError, match="not the scheduler's heartbeat"):
        heartbeat.age()


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can plant a file another user owns")
def test_a_heartbeat_another_user_planted_is_ignored(tmp_path: Path) -> None:
    planted = tmp_path / "beat"
    planted.write_text("")
    os.chown(planted, 12345, 12345)

    with pytest.raises(ControllerError, match="not the scheduler's heartbeat"):
        FileHeartbeat(path=planted).age()
