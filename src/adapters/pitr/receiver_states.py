"""``pitr/receiver.json`` of each service: the supervisor's last word on its receiver,
replaced whole at each change, read by ``status``, ``health`` and the metrics (which run
in other processes)."""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs

from pg_backup_manager.adapters.pitr import records
from pg_backup_manager.adapters.storage import files
from pg_backup_manager.domain.model import Layout
from pg_backup_manager.domain.pitr.model import ReceiverCondition, ReceiverState, SlotState

log = logging.getLogger("controller")
STATE_FILE = "receiver.json"
_CONDITIONS = {condition.value: condition for condition in ReceiverCondition}


@attrs.frozen(kw_only=True)
class ReceiverStateFiles:
    """The ReceiverStates port, one JSON file per service."""

    layout: Layout
    file_mode: int = 0o600

    def write(self, identifier: str, state: ReceiverState) -> None:
        path = records.pitr_dir(self.layout, identifier) / STATE_FILE
        temporary = path.with_name(f".{STATE_FILE}.{os.getpid()}{files.PARTIAL}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary.unlink(missing_ok=True)
            files.create_empty(temporary, self.file_mode)
            temporary.write_text(json.dumps(_document(state), indent=2) + "\n")
            os.replace(temporary, path)
        except OSError as error:  # the state is a report: the receiver goes on
            log.warning("%s: cannot write %s: %s", identifier, path, error.strerror or error)
            temporary.unlink(missing_ok=True)

    def read(self, identifier: str) -> ReceiverState | None:
        path = records.pitr_dir(self.layout, identifier) / STATE_FILE
        try:
            document = json.loads(Path(path).read_text())
            return _state(document)
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None


def _document(state: ReceiverState) -> dict[str, Any]:
    slot = state.slot
    return {
        "condition": state.condition.value,
        "since": _time(state.since),
        "stream": state.stream,
        "error": state.error,
        "checked_at": _time(state.checked_at) if state.checked_at else None,
        "server_lsn": state.server_lsn,
        "caught_up_at": _time(state.caught_up_at) if state.caught_up_at else None,
        "slot": None if slot is None else _slot_document(slot),
    }


def _slot_document(slot: SlotState) -> dict[str, Any]:
    document = attrs.asdict(slot)
    document["server_time"] = _time(slot.server_time) if slot.server_time else None
    return document


def _slot(document: dict[str, Any]) -> SlotState:
    server_time = document.get("server_time")
    return SlotState(**{**document, "server_time": _parse(server_time) if server_time else None})


def _state(document: dict[str, Any]) -> ReceiverState:
    slot = document.get("slot")
    checked = document.get("checked_at")
    caught = document.get("caught_up_at")
    return ReceiverState(
        condition=_CONDITIONS[document["condition"]],
        since=_parse(document["since"]),
        stream=document.get("stream"),
        error=document.get("error"),
        slot=None if slot is None else _slot(slot),
        server_lsn=document.get("server_lsn"),
        checked_at=_parse(checked) if checked else None,
        caught_up_at=_parse(caught) if caught else None,
    )


def _time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
