"""Backups as files in local directories, published all or nothing."""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import stat
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path, PurePath

import attrs

from pg_backup_manager.adapters.processes import is_alive
from pg_backup_manager.domain.errors import BackupNotFoundError, ControllerError, IntegrityError
from pg_backup_manager.domain.model import SHARED_ARCHIVE_NAME, Backup, BackupName, Layout

_PARTIAL = ".partial"
_SHA256 = ".sha256"
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

    def write(self, identifier: str, name: BackupName, writer: Callable[[PurePath], str]) -> Backup:
        """Publish the archive ``writer`` writes at a temporary path as backup ``name``.

        ``writer`` returns the archive's SHA-256, which goes into
        ``<name>.sha256`` (``sha256sum -c`` format) before the archive gets its name.
        """
        directory = self._data_dir(identifier)
        final = directory / str(name)
        if final.exists():
            raise ControllerError(f"backup {final} exists already: try again in a second")
        _remove_leftovers(directory)
        temporary = directory / f".{name}.{os.getpid()}{_PARTIAL}"
        with _removed_on_failure(temporary):
            _create_empty(temporary, self.file_mode)
            checksum = writer(temporary)
            _fsync(temporary)
            self._write_checksum(final, checksum)
            _publish(temporary, final)
        return Backup(name=name, size=final.stat().st_size)

    def checksum_of(self, identifier: str, name: BackupName) -> str | None:
        """Return the SHA-256 recorded for backup ``name``, or None if none was."""
        return _read_checksum(Path(self.path_of(identifier, name)))

    def _write_checksum(self, archive: Path, checksum: str) -> None:
        sidecar = archive.with_name(archive.name + _SHA256)
        temporary = sidecar.with_name(f".{sidecar.name}.{os.getpid()}{_PARTIAL}")
        with _removed_on_failure(temporary):
            _create_empty(temporary, self.file_mode)
            temporary.write_text(f"{checksum}  {archive.name}\n")
            _fsync(temporary)
            os.replace(temporary, sidecar)

    def _data_dir(self, identifier: str) -> Path:
        directory = _inside(Path(self.layout.data_root), Path(self.layout.data_dir(identifier)))
        _make_dir(directory)
        return directory

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
        """Delete backup ``name`` of ``identifier`` and then its checksum; missing is fine."""
        path = Path(self.layout.data_dir(identifier)) / str(name)
        try:
            path.unlink(missing_ok=True)
            path.with_name(path.name + _SHA256).unlink(missing_ok=True)
            _fsync_dir(path.parent)
        except OSError as error:
            raise ControllerError(f"cannot delete {path}: {error.strerror}") from None

    def share(self, identifier: str, name: BackupName) -> PurePath:
        """Copy backup ``name`` (and its checksum) to ``<shared>/<identifier>/file.dump``."""
        source = Path(self.path_of(identifier, name))
        checksum = _read_checksum(source)
        directory = _inside(Path(self.layout.shared_root), Path(self.layout.shared_dir(identifier)))
        _make_dir(directory)
        final = directory / SHARED_ARCHIVE_NAME
        _remove_leftovers(directory)
        temporary = directory / f".{SHARED_ARCHIVE_NAME}.{os.getpid()}{_PARTIAL}"
        with _removed_on_failure(temporary):
            _create_empty(temporary, self.file_mode)
            shutil.copyfile(source, temporary)
            _fsync(temporary)
            if checksum is None:
                final.with_name(final.name + _SHA256).unlink(missing_ok=True)
            else:
                self._write_checksum(final, checksum)
            os.replace(temporary, final)
            _fsync_dir(directory)
        return final

    def shared_checksum(self, identifier: str) -> str | None:
        """Return the SHA-256 recorded for the shared ``file.dump``, or None."""
        return _read_checksum(Path(self.shared_archive(identifier)))

    def shared_archive(self, identifier: str) -> PurePath:
        """Return the shared ``file.dump`` of ``identifier``."""
        path = Path(self.layout.shared_dir(identifier)) / SHARED_ARCHIVE_NAME
        if not _is_regular_file(path):
            raise BackupNotFoundError(
                f"no shared archive {path}: create one with 'controller dump {identifier} --shared'"
            )
        return path


def _inside(root: Path, directory: Path) -> Path:
    """Return ``directory`` if, symlinks resolved, it is still under ``root``."""
    real_root = root.resolve()
    real = directory.resolve()
    if real != real_root and real_root not in real.parents:
        raise ControllerError(
            f"{directory} leads to {real}, outside {root}: remove that symbolic link"
        )
    return directory


def _read_checksum(archive: Path) -> str | None:
    sidecar = archive.with_name(archive.name + _SHA256)
    try:
        text = sidecar.read_text()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise ControllerError(f"cannot read {sidecar}: {error.strerror}") from None
    fields = text.split()
    if len(fields) != 2 or fields[1].lstrip("*") != archive.name or len(fields[0]) != 64:
        raise IntegrityError(f"{sidecar} is not a sha256sum line for {archive.name}")
    return fields[0].lower()


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


# Our own temporary files: ".<backup name or file.dump>[.sha256].<pid>.partial".
_OURS = re.compile(r"\.(file_\w+_[\dT:-]+Z\.dump|file\.dump)(\.sha256)?\.(?P<pid>\d+)\.partial")


def _remove_leftovers(directory: Path) -> None:
    """Remove our temporary files whose writer died, and checksums whose archive is gone."""
    names = {entry.name for entry in _scan(directory)}
    for name in names:
        ours = _OURS.fullmatch(name)
        abandoned = ours is not None and not is_alive(int(ours["pid"]))
        if abandoned or _is_orphan_checksum(name, names):
            (directory / name).unlink(missing_ok=True)


def _is_orphan_checksum(name: str, names: set[str]) -> bool:
    archive = name.removesuffix(_SHA256)
    return name.endswith(_SHA256) and BackupName.is_backup(archive) and archive not in names


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _fsync_dir(directory: Path) -> None:
    _fsync(directory)
