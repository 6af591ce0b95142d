"""Backups as files in local directories, published all or nothing."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path, PurePath

import attrs

from pg_backup_manager.adapters.processes import is_alive
from pg_backup_manager.domain.errors import BackupNotFoundError, ControllerError
from pg_backup_manager.domain.model import SHARED_ARCHIVE_NAME, Backup, BackupName, Layout

_PARTIAL = ".partial"
_NO_HARD_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK}


@attrs.frozen(kw_only=True)
class LocalBackupStore:
    """Backups of each database in ``<data root>/<identifier>``.

    A backup is written under a hidden temporary name (``.<name>.<pid>.partial``),
    fsynced, then linked to its final name without ever replacing an existing
    file, and the directory is fsynced. Only files whose names parse as backup
    names count; temporary files left by a process that died are removed by the
    next write in that directory.
    """

    layout: Layout
    file_mode: int = 0o600

    def prepare(self, identifiers: Iterable[str], *, shared: bool) -> None:
        """Create the backup directories (and the shared ones if ``shared``)."""
        for identifier in identifiers:
            _make_dir(Path(self.layout.data_dir(identifier)))
            if shared:
                _make_dir(Path(self.layout.shared_dir(identifier)))

    def backups(self, identifier: str) -> list[Backup]:
        """Return the committed backups of ``identifier``, newest first."""
        directory = Path(self.layout.data_dir(identifier))
        found = []
        for entry in _scan(directory):
            if BackupName.is_backup(entry.name) and entry.is_file(follow_symlinks=False):
                found.append(Backup(name=BackupName.parse(entry.name), size=entry.stat().st_size))
        return sorted(found, key=lambda backup: backup.name, reverse=True)

    def write(
        self, identifier: str, name: BackupName, writer: Callable[[PurePath], None]
    ) -> Backup:
        """Publish the archive ``writer`` writes at a temporary path as backup ``name``."""
        directory = Path(self.layout.data_dir(identifier))
        _make_dir(directory)
        final = directory / str(name)
        if final.exists():
            raise ControllerError(f"backup {final} exists already: try again in a second")
        _remove_abandoned_partials(directory)
        temporary = directory / f".{name}.{os.getpid()}{_PARTIAL}"
        with _removed_on_failure(temporary):
            _create_empty(temporary, self.file_mode)
            writer(temporary)
            _fsync(temporary)
            _publish(temporary, final)
        return Backup(name=name, size=final.stat().st_size)

    def path_of(self, identifier: str, name: BackupName) -> PurePath:
        """Return the path of the committed backup ``name`` of ``identifier``."""
        path = Path(self.layout.data_dir(identifier)) / str(name)
        if not _is_regular_file(path):
            raise BackupNotFoundError(
                f"no backup {name} of {identifier} in {path.parent}: "
                f"see 'controller list {identifier}'"
            )
        return path

    def delete(self, identifier: str, name: BackupName) -> None:
        """Delete backup ``name`` of ``identifier``; a missing file is not an error."""
        path = Path(self.layout.data_dir(identifier)) / str(name)
        try:
            path.unlink(missing_ok=True)
            _fsync_dir(path.parent)
        except OSError as error:
            raise ControllerError(f"cannot delete {path}: {error.strerror}") from None

    def share(self, identifier: str, name: BackupName) -> PurePath:
        """Copy backup ``name`` to ``<shared>/<identifier>/file.dump`` atomically."""
        source = self.path_of(identifier, name)
        directory = Path(self.layout.shared_dir(identifier))
        _make_dir(directory)
        final = directory / SHARED_ARCHIVE_NAME
        _remove_abandoned_partials(directory)
        temporary = directory / f".{SHARED_ARCHIVE_NAME}.{os.getpid()}{_PARTIAL}"
        with _removed_on_failure(temporary):
            _create_empty(temporary, self.file_mode)
            shutil.copyfile(source, temporary)
            _fsync(temporary)
            os.replace(temporary, final)
            _fsync_dir(directory)
        return final

    def shared_archive(self, identifier: str) -> PurePath:
        """Return the shared ``file.dump`` of ``identifier``."""
        path = Path(self.layout.shared_dir(identifier)) / SHARED_ARCHIVE_NAME
        if not _is_regular_file(path):
            raise BackupNotFoundError(
                f"no shared archive {path}: create one with 'controller dump {identifier} --shared'"
            )
        return path


def _scan(directory: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(directory) as entries:
            return list(entries)
    except FileNotFoundError:
        return []
    except OSError as error:
        raise ControllerError(f"cannot read {directory}: {error.strerror}") from None


def _make_dir(directory: Path) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ControllerError(f"cannot create {directory}: {error.strerror}") from None


def _is_regular_file(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.lstat().st_mode)
    except OSError:
        return False


@contextlib.contextmanager
def _removed_on_failure(temporary: Path) -> Iterator[None]:
    """Remove ``temporary`` if the block raises anything, a stop signal included."""
    try:
        yield
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise ControllerError(_describe(error, temporary.parent)) from None
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _describe(error: OSError, directory: Path) -> str:
    if error.errno == errno.ENOSPC:
        return f"no space left on the device of {directory}; nothing was written"
    return f"cannot write in {directory}: {error.strerror or error}"


def _create_empty(path: Path, mode: int) -> None:
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode))


def _publish(temporary: Path, final: Path) -> None:
    """Give ``temporary`` the name ``final`` without replacing a file that has it."""
    try:
        os.link(temporary, final)
    except FileExistsError:
        raise ControllerError(f"backup {final} exists already: try again in a second") from None
    except OSError as error:
        if error.errno not in _NO_HARD_LINKS:
            raise
        # Some shares (SMB, FUSE) have no hard links: check, then rename.
        if final.exists():
            raise ControllerError(f"backup {final} exists already") from None
        os.rename(temporary, final)
    else:
        temporary.unlink()
    _fsync_dir(final.parent)


def _remove_abandoned_partials(directory: Path) -> None:
    """Remove temporary files whose writing process is gone."""
    for entry in _scan(directory):
        if not (entry.name.startswith(".") and entry.name.endswith(_PARTIAL)):
            continue
        pid_text = entry.name.removesuffix(_PARTIAL).rsplit(".", 1)[-1]
        if pid_text.isdigit() and not is_alive(int(pid_text)):
            Path(entry.path).unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _fsync_dir(directory: Path) -> None:
    _fsync(directory)
