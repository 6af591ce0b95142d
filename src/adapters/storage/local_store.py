"""Backups as files in local directories: the BackupCatalog, SharedCopies and
Directories ports.

Each database's backups live in ``<data root>/<identifier>``; only files whose
names parse as backup names count, each with its ``<name>.sha256``, and beside
it the cluster's globals, ``<stem>.globals.sql`` with its own checksum, and, for a
partial backup, the note of what it left out (``<stem>.left-out.json``). The
shared copy is ``<shared root>/<identifier>/file.dump`` (and ``file.globals.sql``, and
``file.left-out.json`` when it is partial).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path, PurePath

import attrs

from pg_backup_manager.adapters.storage import files
from pg_backup_manager.adapters.storage import left_out as notes
from pg_backup_manager.domain.errors import BackupNotFoundError, ControllerError
from pg_backup_manager.domain.model import Layout
from pg_backup_manager.domain.names import (
    GLOBALS_SUFFIX,
    NOTE_SUFFIX,
    SHARED_ARCHIVE_NAME,
    SHARED_GLOBALS_NAME,
    SHARED_NOTE_NAME,
    Backup,
    BackupName,
    StoredArchive,
)


@attrs.frozen(kw_only=True)
class LocalBackupCatalog:
    """The committed backups of each database, in its backup directory."""

    layout: Layout

    def backups(self, identifier: str) -> list[Backup]:
        """Return the committed backups of ``identifier``, newest first."""
        archives, others, noted = [], set(), set()
        directory = Path(self.layout.backup_dir(identifier))
        for entry in files.scan(directory):
            text = entry.name
            if text.endswith(GLOBALS_SUFFIX):
                if entry.is_file(follow_symlinks=False):
                    others.add(text)
            elif text.endswith(NOTE_SUFFIX):
                if entry.is_file(follow_symlinks=False):
                    noted.add(text)
            elif (
                text.endswith(".dump")  # checksums and others: no parse at all
                and (name := BackupName.from_text(text)) is not None
                and entry.is_file(follow_symlinks=False)
            ):
                archives.append((name, entry.stat(follow_symlinks=False).st_size))
        found = [
            Backup(name=name, size=size, has_globals=name.globals_name in others)
            for name, size in archives
        ]
        if noted:  # only a partial backup has a note: a directory of whole ones reads none
            found = [
                (
                    attrs.evolve(b, partial=True, left_out=notes.read(directory / note))
                    if (note := b.name.note_name) in noted
                    else b
                )
                for b in found
            ]
        # By key, not by comparing names: 10,000 backups sort in a blink. The name's
        # text orders two backups of one second by tier, as names do.
        return sorted(
            found, key=lambda backup: (backup.name.taken_at, str(backup.name)), reverse=True
        )

    def backup_names(self, identifier: str) -> list[BackupName]:
        """Return the names of the committed backups of ``identifier``, newest first."""
        found = [
            name
            for entry in files.scan(Path(self.layout.backup_dir(identifier)))
            if entry.name.endswith(".dump")
            and (name := BackupName.from_text(entry.name)) is not None
            and entry.is_file(follow_symlinks=False)
        ]
        return sorted(found, key=lambda name: (name.taken_at, str(name)), reverse=True)

    def archive(self, identifier: str, name: BackupName) -> StoredArchive:
        """Return backup ``name`` of ``identifier`` and its recorded SHA-256."""
        path = Path(self.layout.backup_dir(identifier)) / str(name)
        return files.stored_archive(
            path,
            f"no backup {name} of {identifier} in {path.parent}: "
            f"see 'controller list {identifier}'",
        )

    def globals(self, identifier: str, name: BackupName) -> StoredArchive:
        """Return the globals file of backup ``name`` of ``identifier`` and its SHA-256."""
        path = Path(self.layout.backup_dir(identifier)) / name.globals_name
        return files.stored_archive(
            path,
            f"backup {name} of {identifier} has no globals file ({path.name}): it was made "
            "before globals were saved; create the roles by hand, or restore with --no-owner",
        )

    def note(self, identifier: str, name: BackupName) -> StoredArchive | None:
        """Return the note of what backup ``name`` of ``identifier`` left out, with the
        SHA-256 of its content; None for a whole backup."""
        return notes.stored(Path(self.layout.backup_dir(identifier)) / name.note_name)

    def delete(self, identifier: str, name: BackupName) -> None:
        """Delete backup ``name`` of ``identifier``, then its checksum, its globals and the
        note of what it left out; missing is fine."""
        path = Path(self.layout.backup_dir(identifier)) / str(name)
        globals_path = path.with_name(name.globals_name)
        try:
            for doomed in (path, globals_path):  # the backup first: then it is gone
                doomed.unlink(missing_ok=True)
                doomed.with_name(doomed.name + files.SHA256).unlink(missing_ok=True)
            path.with_name(name.note_name).unlink(missing_ok=True)
            files.fsync_dir(path.parent)
        except OSError as error:
            raise ControllerError(f"cannot delete {path}: {error.strerror}") from None


@attrs.frozen(kw_only=True)
class LocalSharedCopies:
    """The shared ``file.dump`` of each database, replaced atomically with its checksum, and
    its globals and note."""

    layout: Layout
    file_mode: int = 0o600

    def share(self, identifier: str, name: BackupName) -> PurePath:
        """Copy backup ``name`` (and its checksum) to ``<shared>/<identifier>/file.dump``,
        and its globals to ``file.globals.sql``, each with its checksum."""
        catalog = LocalBackupCatalog(layout=self.layout)
        source = catalog.archive(identifier, name)
        try:
            source_globals: StoredArchive | None = catalog.globals(identifier, name)
        except BackupNotFoundError:
            source_globals = None
        directory = files.private_dir(
            Path(self.layout.shared_root), Path(self.layout.shared_dir(identifier))
        )
        note = catalog.note(identifier, name)
        final = directory / SHARED_ARCHIVE_NAME
        note_final = directory / SHARED_NOTE_NAME
        files.remove_leftovers(directory)
        staging = directory / f".{SHARED_ARCHIVE_NAME}.{os.getpid()}{files.PARTIAL}"
        with files.staging_dir(staging):
            # The old globals go first and the new ones come last: an interruption
            # leaves an archive without globals, never one beside another's globals.
            self._copy(None, directory / SHARED_GLOBALS_NAME, staging)
            # A note comes before its archive and goes after a whole one took its place:
            # an interruption may leave a note too many, never a partial archive that
            # reads as whole.
            if note is not None:
                os.replace(self._staged(note.path, note_final, staging), note_final)
            self._copy(source, final, staging)
            if note is None:
                note_final.unlink(missing_ok=True)
            self._copy(source_globals, directory / SHARED_GLOBALS_NAME, staging)
            files.fsync_dir(directory)
        return final

    def _copy(self, source: StoredArchive | None, final: Path, staging: Path) -> None:
        """Replace ``final`` and its checksum with ``source``'s (None: remove them)."""
        sidecar = final.with_name(final.name + files.SHA256)
        if source is None:
            final.unlink(missing_ok=True)
            sidecar.unlink(missing_ok=True)
            return
        copy = self._staged(source.path, final, staging)
        if source.checksum is None:
            sidecar.unlink(missing_ok=True)
        else:
            files.write_checksum(final, source.checksum, staging=staging, mode=self.file_mode)
        os.replace(copy, final)

    def _staged(self, source: PurePath, final: Path, staging: Path) -> Path:
        """Return a durable copy of ``source`` in ``staging``, to take the name ``final``."""
        copy = staging / final.name
        files.create_empty(copy, self.file_mode)
        shutil.copyfile(source, copy)
        files.fsync(copy)
        return copy

    def archive(self, identifier: str) -> StoredArchive:
        """Return the shared ``file.dump`` of ``identifier`` and its recorded SHA-256."""
        path = Path(self.layout.shared_dir(identifier)) / SHARED_ARCHIVE_NAME
        return files.stored_archive(
            path,
            f"no shared archive {path}: create one with 'controller dump {identifier} --shared'",
        )

    def globals(self, identifier: str) -> StoredArchive:
        """Return the shared ``file.globals.sql`` of ``identifier`` and its SHA-256."""
        path = Path(self.layout.shared_dir(identifier)) / SHARED_GLOBALS_NAME
        return files.stored_archive(
            path,
            f"no shared globals {path}: the shared archive was made before globals were "
            f"saved; share a new one with 'controller dump {identifier} --shared'",
        )

    def left_out(self, identifier: str) -> tuple[str, ...] | None:
        """Return what the shared archive of ``identifier`` left out (its note); None: it
        has no note, it is whole."""
        note = Path(self.layout.shared_dir(identifier)) / SHARED_NOTE_NAME
        return notes.read(note) if files.is_regular_file(note) else None


@attrs.frozen(kw_only=True)
class LocalDirectories:
    """Creates the backup directories."""

    layout: Layout

    def prepare(self, identifiers: Iterable[str], *, shared: bool) -> None:
        """Create the backup directories (and the shared ones if ``shared``)."""
        for identifier in identifiers:
            files.make_dir(Path(self.layout.backup_dir(identifier)))
            if shared:
                files.make_dir(Path(self.layout.shared_dir(identifier)))
