"""New base backups, counted only once whole and checked: the BaseStaging port.

``pg_basebackup`` writes into ``<service>/pitr/.<name>.<pid>.partial/``, a directory
only this user can enter. The stream a backup belongs to is known only once it is
written (its system identifier and timeline are read from it), so it is staged
beside the streams, on the same device, and moved into its stream by one rename.
Committed: every file and directory fsynced, the directory renamed to
``streams/<stream>/base/<name>``, then ``base/<name>.json`` written: the backup
counts from then on. Staging left by a process that died (SIGKILL) is removed by
the next one; a failed write on a full device says "no space left".
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path, PurePath

import attrs

from pg_backup_manager.adapters.pitr import records
from pg_backup_manager.adapters.storage import files, space
from pg_backup_manager.domain.errors import ControllerError
from pg_backup_manager.domain.model import Layout
from pg_backup_manager.domain.pitr.model import BaseBackup, Stream


@attrs.frozen(kw_only=True)
class LocalBaseDraft:
    """A base backup being written into ``path``."""

    path: Path
    layout: Layout
    identifier: str
    name: str
    file_mode: int

    def commit(self, stream: Stream, backup: BaseBackup) -> BaseBackup:
        """Make the backup durable, name it in ``stream``, then write its facts (see the
        module); return it with its size.

        Raises:
            ControllerError: it cannot be made durable or named; nothing is listed.
        """
        base = records.stream_dir(self.layout, self.identifier, stream.name) / records.BASE
        final = base / self.name
        facts = base / (self.name + records.JSON)
        try:
            size = durable_tree(self.path)
            files.make_dir(base)
            if final.exists() or facts.exists():
                raise ControllerError(f"base backup {final} exists already")
            os.rename(self.path, final)
            files.fsync_dir(base)
            files.fsync_dir(self.path.parent)
        except OSError as error:
            raise ControllerError(files.describe(error, base)) from None
        backup = attrs.evolve(backup, size=size)
        try:
            records.write_json(facts, records.base_json(backup, stream), mode=self.file_mode)
        except BaseException:
            # Its facts could not be written: it never counted; leave no tree behind.
            os.rename(final, self.path)
            raise
        return backup


@attrs.frozen(kw_only=True)
class LocalBaseStaging:
    """Stages base backups in each service's ``pitr`` directory (see the module)."""

    layout: Layout
    file_mode: int = 0o600

    @contextlib.contextmanager
    def begin(self, identifier: str, name: str) -> Iterator[LocalBaseDraft]:
        """Yield a draft of base backup ``name``; whatever happens, no staging is left."""
        directory = files.private_dir(
            Path(self.layout.data_root), records.pitr_dir(self.layout, identifier)
        )
        records.remove_abandoned(directory)
        with files.staging_dir(directory / f".{name}.{os.getpid()}{files.PARTIAL}") as staging:
            draft = LocalBaseDraft(
                path=staging,
                layout=self.layout,
                identifier=identifier,
                name=name,
                file_mode=self.file_mode,
            )
            try:
                yield draft
            except ControllerError as error:
                raise _space_left_or(error, directory) from None


def _space_left_or(error: ControllerError, directory: Path) -> ControllerError:
    """Return "no space left" when ``error`` says the device was full, else what
    :func:`space.space_left_or` says. pg_basebackup removes what it wrote before it
    exits, so the device no longer looks full when its error is read."""
    said = " ".join(str(error).split())
    if not any(words in said.lower() for words in _FULL):
        return space.space_left_or(error, directory)
    return ControllerError(
        f"no space left on the device of {directory}: free space there; no base backup "
        f"was kept ({said})"
    )


# What the system says when a write failed for want of space (ENOSPC, EDQUOT).
_FULL = ("no space left", "disk quota exceeded")


def durable_tree(root: PurePath) -> int:
    """Fsync every file and directory under ``root`` (directories last, deepest
    first); return the bytes of its files.

    Raises:
        OSError: one cannot be opened or synced.
    """
    size = 0
    for folder, _, names in os.walk(root, topdown=False):
        for name in names:
            path = Path(folder) / name
            if path.is_symlink():  # pg_basebackup writes none in plain format without tablespaces
                continue
            size += path.stat().st_size
            files.fsync(path)
        files.fsync_dir(Path(folder))
    return size
