"""A copy lost off-site after a sync confirmed it: once the next sync has listed the
store and could not put it back, ``status`` and the metrics say ``off-site: missing``
(a black-box review found ``off-site: ok`` after the archive was deleted by hand and the
re-upload failed, and after it was replaced by other content)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from .process import Controller
from .test_offsite import NEW, OLD, plant_backup
from .test_offsite_file import mounted_share

pytestmark = pytest.mark.integration


@pytest.fixture
def nas(controller: Controller) -> Path:
    directory = mounted_share(controller, "a")
    plant_backup(controller, "a", OLD, os.urandom(3000))
    plant_backup(controller, "a", NEW, os.urandom(5000))
    assert controller("sync", "a").returncode == 0
    return directory


def offsite_state(controller: Controller) -> dict[str, object]:
    status = controller("status", "a", "--json")
    assert status.returncode == 0, status
    [entry] = json.loads(status.stdout)["databases"]
    offsite: dict[str, object] = entry["offsite"]
    return offsite


def test_an_archive_deleted_off_site_whose_upload_then_fails_is_missing(
    controller: Controller, nas: Path
) -> None:
    assert offsite_state(controller)["state"] == "ok"
    (nas / "a" / NEW).unlink()
    (nas / "a").chmod(0o555)  # the controller (not root) cannot put it back
    try:
        synced = controller("sync", "a")
        state = offsite_state(controller)
        text = controller("status", "a").stdout
    finally:
        (nas / "a").chmod(0o755)

    assert synced.returncode == 1, synced
    assert state["state"] == "missing" and state["missing_backups"] == [NEW], state
    assert state["newest_backup_offsite"] is False
    assert "off-site: missing" in text, text


def test_an_archive_replaced_by_other_content_off_site_is_missing(
    controller: Controller, nas: Path
) -> None:
    with (nas / "a" / OLD).open("r+b") as archive:
        archive.truncate(1000)  # in place, as a NAS can

    synced = controller("sync", "a")
    state = offsite_state(controller)

    assert synced.returncode == 1, synced
    assert state["state"] == "missing" and state["missing_backups"] == [OLD], state
