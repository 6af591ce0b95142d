"""``pitr/receiver.json`` gives back what was written, the slot's read time included. Only
files under pytest's tmp_path are touched."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from pg_backup_manager.adapters.pitr.receiver_states import ReceiverStateFiles
from pg_backup_manager.domain.model import Layout
from pg_backup_manager.domain.pitr.model import ReceiverCondition, ReceiverState, SlotState

AT = datetime(2026, 12, 4, 10, 0, 0, 250000, tzinfo=UTC)


def test_a_state_with_the_slot_as_read_is_read_back_whole(tmp_path: Path) -> None:
    layout = Layout(data_root=tmp_path, shared_root=tmp_path, databases_root=tmp_path)
    files = ReceiverStateFiles(layout=layout)
    slot = SlotState(
        name="pg_backup_manager_app",
        active=True,
        restart_lsn=0x3000000,
        wal_status="reserved",
        safe_wal_size=None,
        retained_bytes=1 << 20,
        server_time=AT,
        insert_lsn=0x3000100,
    )
    state = ReceiverState(
        condition=ReceiverCondition.RECEIVING,
        since=AT,
        stream="s",
        slot=slot,
        checked_at=AT,
        caught_up_at=AT,
    )

    files.write("app", state)

    assert files.read("app") == state
