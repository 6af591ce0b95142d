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
# Below this much free space, a failed write is taken for a full device.
_FULL_BELOW_BYTES = 1 << 20


@attrs.frozen(kw_only=True)
class LocalBackupStore:
    """Backups of each database in ``<data root>/<identifier>``.

    A backup is written in a hidden staging directory that only this user can
    enter (``.<name>.<pid>.partial/``), fsynced, then linked to its final name
    without ever replacing an existing file, and the directory is fsynced. The
    controller refuses backup directories that other users can write to. Only
    files whose names parse as backup names count; temporary files left by a
    process that died are removed by the next write in that directory.
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

        The temporary path is inside a directory only this user can enter, so
        no other user can redirect the tools' writes. ``writer`` returns the
        archive's SHA-256, which goes into ``<name>.sha256`` (``sha256sum -c``
        format) before the archive gets its name. A failure on a full device
        is reported as such, whatever the tools made of it.
        """
        directory = self._data_dir(identifier)
        final = directory / str(name)
        if final.exists():
            raise ControllerError(f"backup {final} exists already: try again in a second")
        _remove_leftovers(directory)
        with _staging(directory / f".{name}.{os.getpid()}{_PARTIAL}") as staging:
            archive = staging / str(name)
            _create_empty(archive, self.file_mode)
            try:
                checksum = writer(archive)
            except ControllerError as error:
                raise _space_left_or(error, directory) from None
            _fsync(archive)
            self._write_checksum(final, checksum, staging)
            _publish(archive, final)
        return Backup(name=name, size=final.stat().st_size)

    def checksum_of(self, identifier: str, name: BackupName) -> str | None:
        """Return the SHA-256 recorded for backup ``name``, or None if none was."""
        return _read_checksum(Path(self.path_of(identifier, name)))

    def _write_checksum(self, archive: Path, checksum: str, staging: Path) -> None:
        sidecar = archive.with_name(archive.name + _SHA256)
        temporary = staging / sidecar.name
        _create_empty(temporary, self.file_mode)
        temporary.write_text(f"{checksum}  {archive.name}\n")
        _fsync(temporary)
        os.replace(temporary, sidecar)

    def _data_dir(self, identifier: str) -> Path:
        return private_dir(Path(self.layout.data_root), Path(self.layout.data_dir(identifier)))

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
        directory = private_dir(
            Path(self.layout.shared_root), Path(self.layout.shared_dir(identifier))
        )
        final = directory / SHARED_ARCHIVE_NAME
        _remove_leftovers(directory)
        with _staging(directory / f".{SHARED_ARCHIVE_NAME}.{os.getpid()}{_PARTIAL}") as staging:
            copy = staging / SHARED_ARCHIVE_NAME
            _create_empty(copy, self.file_mode)
            shutil.copyfile(source, copy)
            _fsync(copy)
            if checksum is None:
                final.with_name(final.name + _SHA256).unlink(missing_ok=True)
            else:
                self._write_checksum(final, checksum, staging)
            os.replace(copy, final)
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


def private_dir(root: Path, directory: Path) -> Path:
    """Return ``directory`` (under ``root``), created if missing, once no other user can write
    in it or in ``root``.

    A directory that others can write to would let them swap the files the
    tools write (for a symbolic link to a file of theirs, or over one of ours);
    one with the sticky bit that this user owns is safe, as /tmp is.

    Raises:
        ControllerError: it cannot be created, leads outside ``root``, or others
            can write to it.
    """
    _make_dir(directory)
    _inside(root, directory)
    for checked in (root, directory):
        refuse_if_others_can_write(checked)
    return directory


def refuse_if_others_can_write(directory: Path) -> None:
    """Raise ControllerError if users other than this one can write in ``directory``."""
    try:
        status = os.stat(directory)
    except OSError as error:
        raise ControllerError(f"cannot read {directory}: {error.strerror}") from None
    writable_by_others = status.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    sticky_and_ours = status.st_mode & stat.S_ISVTX and status.st_uid == os.geteuid()
    if writable_by_others and not sticky_and_ours:
        raise ControllerError(
            f"{directory} can be written by other users (mode "
            f"{stat.S_IMODE(status.st_mode):04o}), who could redirect what the controller "
            f"writes: run 'chmod go-w {directory}'"
        )


def _is_regular_file(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.lstat().st_mode)
    except OSError:
        return False


@contextlib.contextmanager
def _staging(staging: Path) -> Iterator[Path]:
    """Yield a new directory only this user can enter; remove it and all in it at the end.

    OSError in the block becomes a ControllerError that says what failed.
    """
    try:
        os.mkdir(staging, 0o700)
    except OSError as error:
        raise ControllerError(_describe(error, staging.parent)) from None
    try:
        yield staging
    except OSError as error:
        raise ControllerError(_describe(error, staging.parent)) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _space_left_or(error: ControllerError, directory: Path) -> ControllerError:
    """Return a "no space left" error when ``directory``'s device is full, else ``error``.

    On a full device some tools exit 0 after writing nothing (pg_dump 15 in
    the custom format): the archive check then fails, and would look like a
    damaged archive.
    """
    try:
        status = os.statvfs(directory)
    except OSError:
        return error
    free = status.f_bavail * status.f_frsize
    if free >= _FULL_BELOW_BYTES:
        return error
    return ControllerError(
        f"no space left on the device of {directory} ({free // 1024} KiB free): "
        f"free space there; nothing was written ({' '.join(str(error).split())})"
    )


def _describe(error: OSError, directory: Path) -> str:
    if error.errno == errno.ENOSPC:
        return f"no space left on the device of {directory}; nothing was written"
    return f"cannot write in {directory}: {error.strerror or error}"


def _create_empty(path: Path, mode: int) -> None:
    """Create ``path`` with exactly ``mode``, whatever the umask; never follow a link."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    try:
        os.fchmod(descriptor, mode)
    finally:
        os.close(descriptor)


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
            path = directory / name
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


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
