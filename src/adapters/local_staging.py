"""New backups, written all or nothing: the Staging port.

A backup is written in a staging directory only this user can enter
(``.<name>.<pid>.partial/``), so no other user can redirect the tools' writes;
committed, it is fsynced, its checksum recorded, and it is linked to its final
name without ever replacing a file, and the directory fsynced. Staging
directories left by a process that died are removed by the next one.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import attrs

from pg_backup_manager.adapters import files
from pg_backup_manager.domain.errors import ControllerError
from pg_backup_manager.domain.model import Layout
from pg_backup_manager.domain.names import Backup, BackupName


@attrs.frozen(kw_only=True)
class LocalDraft:
    """A backup being written at ``path``, inside its staging directory."""

    path: Path
    final: Path
    name: BackupName
    file_mode: int

    def commit(self, checksum: str) -> Backup:
        """Make the archive durable, record ``checksum``, and give it its name."""
        files.fsync(self.path)
        files.write_checksum(self.final, checksum, staging=self.path.parent, mode=self.file_mode)
        files.publish(self.path, self.final)
        return Backup(name=self.name, size=self.final.stat().st_size)


@attrs.frozen(kw_only=True)
class LocalStaging:
    """Stages new backups in each database's backup directory."""

    layout: Layout
    file_mode: int = 0o600

    @contextlib.contextmanager
    def begin(self, identifier: str, name: BackupName) -> Iterator[LocalDraft]:
        """Yield a draft of backup ``name``; whatever happens, no staging file is left."""
        directory = files.private_dir(
            Path(self.layout.data_root), Path(self.layout.backup_dir(identifier))
        )
        final = directory / str(name)
        if final.exists():
            raise ControllerError(f"backup {final} exists already: try again in a second")
        files.remove_leftovers(directory)
        with files.staging_dir(directory / f".{name}.{os.getpid()}{files.PARTIAL}") as staging:
            draft = LocalDraft(
                path=staging / str(name), final=final, name=name, file_mode=self.file_mode
            )
            files.create_empty(draft.path, self.file_mode)
            try:
                yield draft
            except ControllerError as error:
                raise files.space_left_or(error, directory) from None
