"""New backups, written all or nothing: the Staging port.

A backup (the archive and the cluster's globals kept beside it) is written in a
staging directory only this user can enter (``.<name>.<pid>.partial/``), so no
other user can redirect the tools' writes; committed, each file is fsynced, its
checksum recorded, and it is linked to its final name without ever replacing a
file, and the directory fsynced. Staging directories left by a process that
died are removed by the next one.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path, PurePath

import attrs

from pg_backup_manager.adapters.storage import files, space
from pg_backup_manager.adapters.storage import left_out as notes
from pg_backup_manager.domain.errors import ControllerError
from pg_backup_manager.domain.model import Layout
from pg_backup_manager.domain.names import GLOBALS_SUFFIX, Backup, BackupName


@attrs.frozen(kw_only=True)
class LocalDraft:
    """A backup being written at ``path``, inside its staging directory."""

    path: Path
    final: Path
    name: BackupName
    file_mode: int

    @property
    def globals_path(self) -> Path:
        """Return where the globals are written, in the staging directory."""
        return self.path.with_name(self.name.globals_name)

    def commit(
        self, checksum: str, globals_checksum: str, *, left_out: tuple[str, ...] = ()
    ) -> Backup:
        """Make the globals and the archive durable, record their checksums, and give
        them their names: the note of what a partial backup ``left_out`` first, then the
        globals, so that a backup never lacks them. No file of another is ever replaced;
        if the archive cannot take its name, what this commit published (globals with
        password hashes) is removed again."""
        published: list[Path] = []
        try:
            if left_out:
                staging = self.path.parent
                published.append(
                    notes.write(self.final, left_out, staging=staging, mode=self.file_mode)
                )
            globals_final = self.final.with_name(self.name.globals_name)
            self._publish(self.globals_path, globals_final, globals_checksum, published)
            self._publish(self.path, self.final, checksum, published)
        except BaseException:
            for ours in published:
                ours.unlink(missing_ok=True)
            raise
        return Backup(
            name=self.name,
            size=self.final.stat().st_size,
            has_globals=True,
            partial=bool(left_out),
            left_out=left_out,
        )

    def _publish(self, path: Path, final: Path, checksum: str, published: list[Path]) -> None:
        """Give ``path`` the name ``final``, its checksum first; add what took a name to
        ``published``."""
        files.fsync(path)
        published.append(
            files.write_checksum(
                final, checksum, staging=path.parent, mode=self.file_mode, replace=False
            )
        )
        files.publish(path, final)
        published.append(final)


@attrs.frozen(kw_only=True)
class LocalStaging:
    """Stages new backups in each database's backup directory, and the globals of a run
    (the GlobalsFiles port) in its service's: ``.globals.sql.<pid>.partial/``."""

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
            files.create_empty(draft.globals_path, self.file_mode)
            try:
                yield draft
            except ControllerError as error:
                raise space.space_left_or(error, directory) from None

    @contextlib.contextmanager
    def run_file(self, service: str) -> Iterator[Path]:
        """Yield a new file, mode ``file_mode``, in a staging directory only this user can
        enter in ``service``'s directory; the directory goes when the block ends."""
        directory = files.private_dir(
            Path(self.layout.data_root), Path(self.layout.backup_dir(service))
        )
        files.remove_leftovers(directory)
        staging = directory / f".{GLOBALS_SUFFIX.lstrip('.')}.{os.getpid()}{files.PARTIAL}"
        with files.staging_dir(staging):
            path = staging / GLOBALS_SUFFIX.lstrip(".")
            files.create_empty(path, self.file_mode)
            try:
                yield path
            except ControllerError as error:
                raise space.space_left_or(error, directory) from None

    def copy(self, source: PurePath, target: PurePath) -> None:
        """Make ``target`` (a draft's globals) the file ``source``: a hard link (the same
        bytes kept once for every backup of the run), or a copy where links fail."""
        try:
            os.unlink(target)
            try:
                os.link(source, target)
            except OSError:
                files.create_empty(Path(target), self.file_mode)
                shutil.copyfile(source, target)
        except OSError as error:
            raise ControllerError(files.describe(error, Path(target).parent)) from None
