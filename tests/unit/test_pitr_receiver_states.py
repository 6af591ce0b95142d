"""``pitr/receiver.json``: what the supervisor writes is what status, health and the
metrics read, slot and proof included; a file that cannot be read is no state."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from pg_backup_manager.adapters.pitr.receiver_states import ReceiverStateFiles
from pg_backup_manager.domain.model import Layout
from pg_backup_manager.domain.pitr.model import ReceiverCondition, ReceiverState, SlotState

AT = datetime(2026, 12, 4, 10, 0, 0, 250000, tzinfo=UTC)


def files(root: Path) -> ReceiverStateFiles:
    return ReceiverStateFiles(
        layout=Layout(data_root=root, shared_root=root / "shared", databases_root=root / "db")
    )


def test_a_state_written_is_read_back_whole(tmp_path: Path) -> None:
    slot = SlotState(
        name="pg_backup_manager_app",
        active=True,
        restart_lsn=0x3000060,
        wal_status="reserved",
        safe_wal_size=None,
        retained_bytes=0,
        server_time=AT,
        insert_lsn=0x3000060,
    )
    state = ReceiverState(
        condition=ReceiverCondition.RECEIVING,
        since=AT,
        stream="2026-12-04T09:00:00Z",
        slot=slot,
        checked_at=AT,
        caught_up_at=AT,
    )

    files(tmp_path).write("app", state)

    assert files(tmp_path).read("app") == state


def test_a_state_that_cannot_be_read_is_none(tmp_path: Path) -> None:
    (tmp_path / "app" / "pitr").mkdir(parents=True)
    (tmp_path / "app" / "pitr" / "receiver.json").write_text("{not json")

    assert files(tmp_path).read("app") is None
    assert files(tmp_path).read("other") is None
