"""Files that must never be half-written, read from a directory no one else can write.

The helpers of the local backup store: checksum files in ``sha256sum`` format,
private staging directories, publication by hard link (never replacing a
file), fsync of files and directories, and refusal of directories that other
users can write to.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

from pg_backup_manager.adapters.processes import is_alive
from pg_backup_manager.domain.errors import BackupNotFoundError, ControllerError, IntegrityError
from pg_backup_manager.domain.names import BackupName, StoredArchive, sha256sum_digest

PARTIAL = ".partial"
SHA256 = ".sha256"
_NO_HARD_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK}


def stored_archive(path: Path, missing: str) -> StoredArchive:
    """Return the archive at ``path`` with its recorded checksum.

    Raises:
        BackupNotFoundError: ``path`` is not a regular file; the message is ``missing``.
        IntegrityError: its checksum file is not a ``sha256sum`` line for it.
        ControllerError: its checksum file cannot be read.
    """
    if not is_regular_file(path):
        raise BackupNotFoundError(missing)
    return StoredArchive(path=path, checksum=read_checksum(path))


def write_checksum(
    archive: Path, checksum: str, *, staging: Path, mode: int, replace: bool = True
) -> Path:
    """Record ``checksum`` in ``<archive>.sha256``, written in ``staging`` then renamed;
    return its path. With ``replace`` false, a file of that name is never replaced
    (:func:`publish`)."""
    sidecar = archive.with_name(archive.name + SHA256)
    temporary = staging / sidecar.name
    create_empty(temporary, mode)
    temporary.write_text(f"{checksum}  {archive.name}\n")
    fsync(temporary)
    if replace:
        os.replace(temporary, sidecar)
    else:
        publish(temporary, sidecar)
    return sidecar


def inside(root: Path, directory: Path) -> Path:
    """Return ``directory`` if, symlinks resolved, it is still under ``root``."""
    real_root = root.resolve()
    real = directory.resolve()
    if real != real_root and real_root not in real.parents:
        raise ControllerError(
            f"{directory} leads to {real}, outside {root}: remove that symbolic link"
        )
    return directory


def read_checksum(archive: Path) -> str | None:
    sidecar = archive.with_name(archive.name + SHA256)
    try:
        text = sidecar.read_text()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise ControllerError(f"cannot read {sidecar}: {error.strerror}") from None
    checksum = sha256sum_digest(text, archive.name)
    if checksum is None:
        raise IntegrityError(f"{sidecar} is not a sha256sum line for {archive.name}")
    return checksum


def scan(directory: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(directory) as entries:
            return list(entries)
    except FileNotFoundError:
        return []
    except OSError as error:
        raise ControllerError(f"cannot read {directory}: {error.strerror}") from None


def make_dir(directory: Path) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ControllerError(f"cannot create {directory}: {error.strerror}") from None


def private_dir(root: Path, directory: Path) -> Path:
    """Return ``directory`` (under ``root``), created if missing, once no other user can write
    in it, in ``root`` or in any directory between.

    A directory that others can write to would let them swap the files the
    tools write (for a symbolic link to a file of theirs, or over one of ours);
    one with the sticky bit that this user owns is safe, as /tmp is.

    Raises:
        ControllerError: it cannot be created, leads outside ``root``, or others
            can write to it.
    """
    make_dir(directory)
    inside(root, directory)
    # Every directory from the root down: a database of a server has its service's between.
    for checked in (root, *reversed(directory.relative_to(root).parents[:-1]), directory):
        refuse_if_others_can_write(root / checked)
    return directory


def refuse_if_others_can_write(directory: Path) -> None:
    """Raise ControllerError if users other than this one can write in ``directory``."""
    try:
        status = os.stat(directory)
    except OSError as error:
        raise ControllerError(f"cannot read {directory}: {error.strerror}") from None
    if others_can_write(status):
        raise ControllerError(
            f"{directory} can be written by other users (mode "
            f"{stat.S_IMODE(status.st_mode):04o}), who could redirect what the controller "
            f"writes: run 'chmod go-w {directory}'"
        )


def others_can_write(status: os.stat_result) -> bool:
    """Return whether users other than this one can write in the directory of ``status``
    (one with the sticky bit that this user owns is safe, as /tmp is)."""
    writable_by_others = status.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    sticky_and_ours = status.st_mode & stat.S_ISVTX and status.st_uid == os.geteuid()
    return bool(writable_by_others and not sticky_and_ours)


def is_regular_file(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.lstat().st_mode)
    except OSError:
        return False


@contextlib.contextmanager
def staging_dir(staging: Path) -> Iterator[Path]:
    """Yield a new directory only this user can enter; remove it and all in it at the end.

    OSError in the block becomes a ControllerError that says what failed.
    """
    try:
        os.mkdir(staging, 0o700)
    except OSError as error:
        raise ControllerError(describe(error, staging.parent)) from None
    try:
        yield staging
    except OSError as error:
        raise ControllerError(describe(error, staging.parent)) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def describe(error: OSError, directory: Path) -> str:
    if error.errno == errno.ENOSPC:
        return f"no space left on the device of {directory}; nothing was written"
    return f"cannot write in {directory}: {error.strerror or error}"


def create_empty(path: Path, mode: int) -> None:
    """Create ``path`` with exactly ``mode``, whatever the umask; never follow a link."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    try:
        os.fchmod(descriptor, mode)
    finally:
        os.close(descriptor)


def publish(temporary: Path, final: Path) -> None:
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
    fsync_dir(final.parent)


# Our own temporary files: ".<backup name or file.dump>[.sha256].<pid>.partial", and a
# run's globals, ".globals.sql.<pid>.partial".
_OURS = re.compile(
    r"\.(file_\w+_[\dT:-]+Z\.dump|file\.dump|globals\.sql)(\.sha256)?\.(?P<pid>\d+)\.partial"
)


def remove_leftovers(directory: Path) -> None:
    """Remove our temporary files whose writer died, and checksums whose archive is gone."""
    names = {entry.name for entry in scan(directory)}
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
    archive = name.removesuffix(SHA256)
    return name.endswith(SHA256) and BackupName.is_backup(archive) and archive not in names


def fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def fsync_dir(directory: Path) -> None:
    fsync(directory)
