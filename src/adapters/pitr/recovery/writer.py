"""Writing a recovery: a committed base backup copied into a new data directory, the WAL
it needs beside it, and what makes a server recover by itself. Nothing is ever written
into a directory that holds anything, and a recovery that fails leaves the directory
as it found it."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path, PurePath

import attrs

from pg_backup_manager.adapters.pitr import records
from pg_backup_manager.adapters.storage import files
from pg_backup_manager.domain.errors import ConfigurationError, ControllerError, IntegrityError
from pg_backup_manager.domain.model import Layout
from pg_backup_manager.domain.pitr.model import BaseBackup, Stream
from pg_backup_manager.domain.pitr.ports import BackupVerifier
from pg_backup_manager.domain.pitr.recovery.plan import WAL_DIRECTORY, WalCopy
from pg_backup_manager.domain.pitr.wal_names import PARTIAL_SUFFIX

_DATA_DIR_MODE = 0o700
_CHUNK = 1 << 20
_AUTO_CONF = "postgresql.auto.conf"
_SIGNAL = "recovery.signal"
_CONTROL = "global/pg_control"


@attrs.frozen(kw_only=True)
class RecoveryDraft:
    """A data directory being written; see :meth:`RecoveryWriter.writing`."""

    layout: Layout
    identifier: str
    path: Path
    verifier: BackupVerifier
    # The pg_control to copy last (see copy_base).
    control_from: list[Path] = attrs.field(factory=list)

    @property
    def wal_directory(self) -> Path:
        return self.path / WAL_DIRECTORY

    def copy_base(self, stream: Stream, base: BaseBackup) -> None:
        """Copy the committed base backup ``base`` of ``stream`` into the directory, all
        but ``global/pg_control``: :meth:`RecoveryWriter.writing` copies it last, so a
        copy cut short (a SIGKILL, a crash) is one no server starts on. It is checked by
        ``pg_verifybackup`` first, as when it was taken: a file damaged since is found.

        Raises:
            IntegrityError: the base backup is not what was taken.
        """
        source = records.stream_dir(self.layout, self.identifier, stream.name) / records.BASE
        try:
            self.verifier.verify(source / base.name, stream.server_major)
        except IntegrityError as error:
            raise IntegrityError(
                f"base backup {base.name} of stream {stream.name}: {error}"
            ) from None
        shutil.copytree(
            source / base.name,
            self.path,
            symlinks=True,
            dirs_exist_ok=True,
            ignore=lambda directory, names: [
                n for n in names if Path(directory, n) == _control(source / base.name)
            ],
        )
        self.control_from.append(_control(source / base.name))

    def copy_wal(self, stream: Stream, wal: Sequence[WalCopy]) -> None:
        """Copy each segment of ``wal`` under its name into :data:`WAL_DIRECTORY`, each
        complete one checked against the SHA-256 recorded when it was received.

        A ``.partial`` segment the receiver completed meanwhile is copied complete.

        Raises:
            IntegrityError: a segment is not what was received.
        """
        source = records.stream_dir(self.layout, self.identifier, stream.name) / records.WAL
        self.wal_directory.mkdir(mode=_DATA_DIR_MODE)
        for copy in wal:
            found = source / copy.segment.name
            if not found.exists() and copy.segment.partial:
                found = source / copy.segment.name.removesuffix(PARTIAL_SUFFIX)
            partial = found.name.endswith(PARTIAL_SUFFIX)
            recorded = None if partial else files.read_checksum(found)
            target = self.wal_directory / copy.name
            copied = _copied(found, target)
            if partial and target.stat().st_size < stream.wal_segment_size:
                # Cut short (a full disk while the receiver made it): what it holds is
                # good, and a server reads a segment only at its full size; the zeros
                # after it are where replay ends, as in the receiver's own padding.
                os.truncate(target, stream.wal_segment_size)
            if recorded is not None and copied != recorded:
                raise IntegrityError(
                    f"WAL segment {found.name} of stream {stream.name} is not what was received "
                    f"(SHA-256 {copied}, recorded {recorded}): it must not be replayed"
                )

    def configure(self, settings: Sequence[str]) -> None:
        """Append ``settings`` to ``postgresql.auto.conf`` and ask for recovery."""
        with (self.path / _AUTO_CONF).open("a") as conf:
            conf.write("\n# Written by pg_backup_manager's recover:\n")
            conf.writelines(f"{line}\n" for line in settings)
        (self.path / _SIGNAL).touch(mode=0o600)


@attrs.frozen(kw_only=True)
class RecoveryWriter:
    """Writes recoveries into new data directories, never among the backups, except
    for ``scratch``: the writer of ``verify --pitr``'s scratch data directories, which
    lie beside the streams (see :class:`RecoveryScratch`) and are removed after it."""

    layout: Layout
    verifier: BackupVerifier
    scratch: bool = False

    @contextlib.contextmanager
    def writing(self, identifier: str, into: PurePath) -> Iterator[RecoveryDraft]:
        """Yield a draft of a data directory at ``into`` for the block; everything the
        block wrote is made durable when it ends well, and removed when it raises.

        Raises:
            ConfigurationError: ``into`` holds anything, is not a directory, cannot be
                made, or is (or is inside) the backups' or the shared root (but
                for a ``scratch`` writer).
            ControllerError: it cannot be written (a full device says so).
        """
        path = Path(into).absolute()
        created = _claim(path, self.layout, scratch=self.scratch)
        try:
            draft = RecoveryDraft(
                layout=self.layout, identifier=identifier, path=path, verifier=self.verifier
            )
            yield draft
            _fsync_tree(path)
            for control in draft.control_from:  # last: from now on a server starts on it
                target = path / _CONTROL
                shutil.copyfile(control, target)
                files.fsync(target)
                files.fsync_dir(target.parent)
        except OSError as error:
            _undo(path, created)
            raise ControllerError(_described(error, path)) from None
        except BaseException:
            _undo(path, created)
            raise


def _control(data_dir: Path) -> Path:
    return data_dir / _CONTROL


def _copied(source: Path, target: Path) -> str:
    """Copy ``source`` to ``target``; return the SHA-256 of what was copied."""
    digest = hashlib.sha256()
    with source.open("rb") as reading, target.open("xb") as writing:
        while chunk := reading.read(_CHUNK):
            digest.update(chunk)
            writing.write(chunk)
    return digest.hexdigest()


def _claim(path: Path, layout: Layout, *, scratch: bool) -> bool:
    """Make sure ``path`` is an empty directory only its owner may enter (its missing
    parents made, as the official image's ``18/docker`` inside a new volume needs);
    return whether it was created. Never one among the backups: a path that is, or is
    inside, the backup data root or the shared root (symbolic links followed) is
    refused before anything is made (unless it is verify's ``scratch``)."""
    try:
        real = path.resolve()
        for root in () if scratch else (Path(layout.data_root), Path(layout.shared_root)):
            if real.is_relative_to(root.resolve()):
                raise ConfigurationError(
                    f"--into {path} is inside {root}, where the backups are: recover writes "
                    "a new data directory elsewhere (a new volume), never among the backups"
                )
    except (OSError, RuntimeError) as error:  # RuntimeError: a loop of symbolic links
        raise ConfigurationError(f"--into {path}: {error}") from None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.mkdir(mode=_DATA_DIR_MODE)
    except FileExistsError:
        if not path.is_dir() or path.is_symlink():
            raise ConfigurationError(f"--into {path} is not a directory") from None
        if any(path.iterdir()):
            raise ConfigurationError(
                f"--into {path} is not empty: recover writes only into an empty or new "
                "directory (a new volume), never over a data directory"
            ) from None
        try:
            os.chmod(path, _DATA_DIR_MODE)
        except OSError as error:
            raise ConfigurationError(f"--into {path}: {error.strerror}") from None
        return False
    except OSError as error:
        raise ConfigurationError(f"--into {path}: {error.strerror}") from None
    return True


def _undo(path: Path, created: bool) -> None:
    if created:
        shutil.rmtree(path, ignore_errors=True)
        return
    for child in path.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


def _fsync_tree(path: Path) -> None:
    for directory, _, names in os.walk(path):
        for name in names:
            if not os.path.islink(os.path.join(directory, name)):
                files.fsync(Path(directory, name))
        files.fsync_dir(Path(directory))


def _described(error: OSError, path: Path) -> str:
    if error.errno == errno.ENOSPC:
        return f"no space left on the device of {path}; nothing of the recovery is left there"
    return f"cannot write the recovery into {path}: {error.strerror or error}"
