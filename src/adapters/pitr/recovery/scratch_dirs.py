"""Scratch data directories of ``verify --pitr``, beside the streams, and removed after
it, or by the next run when a SIGKILL left one behind."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import attrs

from pg_backup_manager.adapters.pitr import records
from pg_backup_manager.adapters.processes import is_alive
from pg_backup_manager.adapters.storage import files
from pg_backup_manager.domain.model import Layout

_SCRATCH = re.compile(r"\.verify\.(?P<pid>[0-9]+)")


@attrs.frozen(kw_only=True)
class RecoveryScratch:
    """Scratch data directories of ``verify --pitr``: ``<service>/pitr/.verify.<pid>``."""

    layout: Layout

    @contextlib.contextmanager
    def scratch(self, identifier: str) -> Iterator[Path]:
        pitr = records.pitr_dir(self.layout, identifier)
        for entry in files.scan(pitr):
            found = _SCRATCH.fullmatch(entry.name)
            if found is not None and not is_alive(int(found["pid"])):
                shutil.rmtree(entry.path, ignore_errors=True)
        path = pitr / f".verify.{os.getpid()}"
        try:
            yield path
        finally:
            shutil.rmtree(path, ignore_errors=True)
