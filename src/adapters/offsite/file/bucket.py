"""A directory as a :class:`~.bucket.Bucket`: ``OFFSITE_URL=file:///<path>``, for a NAS
share (NFS, SMB) mounted into the container.

The key ``<service>/<name>`` is the file ``<path>/<service>/<name>`` (for a database of a
server, ``<path>/<service>/<segment>/<name>``); the directories are checked at each use
(:mod:`.directories`). What is recorded of a file's content (SHA-256;
the size of the file as written; for a ciphertext, that it is age's and its plaintext's
size) is the hidden file ``.<name>.meta`` beside it, a JSON object written before the
file appears. A file whose size is not the recorded one (truncated or grown in place, as
a share allows and a bucket does not) has nothing recorded for it: no usable copy, never
overwritten. A file is written under a hidden temporary name ``.<name>.<pid>.<random>.partial``
(created exclusively), fsynced, read back and its SHA-256 and size compared with what was
written, then given its name by a hard link, which never replaces a file (the atomic
no-replace of POSIX); on a share without hard links (some SMB mounts), by a rename after
a check that the name is free (atomic against this controller, which holds the
database's lock, not against another writer at the same instant). Hidden names are
never listed: a copy interrupted while being written is never listed nor restored, and
its temporary file is removed by the next upload into that directory once it is a day
old (it may be another host's, being written); hidden files of other names are left
alone.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from pathlib import Path

import attrs

from pg_backup_manager.adapters.offsite.bucket import Content, Source, StoredObject, url_path
from pg_backup_manager.adapters.offsite.file import writes
from pg_backup_manager.adapters.offsite.file.directories import (
    checked_directory,
    checked_root,
    made_directory,
)
from pg_backup_manager.adapters.offsite.file.settings import FileSettings
from pg_backup_manager.domain.errors import ControllerError

META = ".meta"


def file_bucket(settings: FileSettings) -> FileBucket:
    """Return the bucket of the directory ``settings`` name (checked at each use, not
    here: a share that is away must not stop a local backup)."""
    return FileBucket(root=Path(settings.root))


@attrs.frozen(kw_only=True)
class FileBucket:
    """The files under ``root``, one directory per key prefix."""

    root: Path

    def _path(self, key: str, *, writing: bool = False) -> Path | None:
        """Return the file at ``key`` once the root and its database's directory are
        checked (:mod:`.directories`); None: that directory does not exist.

        Raises:
            ConfigurationError: either is not fit to use.
        """
        path = checked_root(self.root, writing=writing) / key
        return path if checked_directory(path.parent, root=self.root) else None

    def url(self, key: str) -> str:
        """Return ``file://<root>/<key>``, its path percent-encoded (:func:`.url_path`)."""
        return "file://" + url_path(str(self.root / key) + ("/" if key.endswith("/") else ""))

    def record_of(self, name: str) -> str:
        """Return ``.<name>.meta``: the hidden file beside it records its SHA-256."""
        return f".{name}{META}"

    def listing(self, prefix: str) -> dict[str, int]:
        """Return the size of every regular file directly in the directory ``prefix`` whose
        name is not hidden (temporary files and records start with ``.``)."""
        directory = checked_root(self.root, writing=False) / prefix
        if not checked_directory(directory, root=self.root):
            return {}  # no copy of this database yet
        found: dict[str, int] = {}
        try:
            with os.scandir(directory) as entries:
                for entry in entries:
                    if not entry.name.startswith(".") and entry.is_file(follow_symlinks=False):
                        found[entry.name] = entry.stat(follow_symlinks=False).st_size
        except FileNotFoundError:
            return {}  # no copy of this database yet
        except OSError as error:
            raise self._failure(error, f"listing {self.url(prefix)}") from None
        return found

    def folders(self, prefix: str) -> list[str]:
        """Return the names of the directories directly in the directory ``prefix``, not
        hidden.

        Raises:
            ConfigurationError: one is a symbolic link (never followed, never skipped
                unsaid: it would hide a database's copies), or others can write to it.
        """
        directory = checked_root(self.root, writing=False) / prefix
        if not checked_directory(directory, root=self.root):
            return []
        try:
            with os.scandir(directory) as entries:
                found = [entry for entry in entries if not entry.name.startswith(".")]
        except OSError as error:
            raise self._failure(error, f"listing {self.url(prefix)}") from None
        return [
            entry.name
            for entry in found
            if (entry.is_symlink() or entry.is_dir(follow_symlinks=False))
            and checked_directory(directory / entry.name, root=self.root)
        ]

    def stat(self, key: str) -> StoredObject | None:
        """Return the size of the file at ``key`` and its record (nothing recorded when its
        size is not the recorded one), or None when absent."""
        path = self._path(key)
        if path is None:
            return None
        try:
            size = path.lstat().st_size if path.is_file() and not path.is_symlink() else None
        except OSError as error:
            raise self._failure(error, f"reading {self.url(key)}") from None
        if size is None:
            return None
        found, recorded_size = _record(_meta(path)) or (Content(sha256=""), None)
        if recorded_size is not None and recorded_size != size:
            found = Content(sha256="")  # changed in place: the record vouches for nothing
        return StoredObject(
            size=size,
            sha256=found.sha256 or None,
            encrypted=found.encrypted,
            plain_size=found.plain_size,
        )

    def read(self, key: str, limit: int) -> bytes | None:
        """Return the first ``limit`` bytes of the file at ``key`` (None: it is gone)."""
        path = self._path(key)
        if path is None:
            return None
        try:
            with path.open("rb") as file:
                return file.read(limit)
        except FileNotFoundError:
            return None
        except OSError as error:
            raise self._failure(error, f"reading {self.url(key)}") from None

    def put(self, key: str, source: Source, content: Content) -> bool:
        """Write ``source`` under a temporary name, check it, then link it to ``key``
        unless a file has that name (False: nothing changed but the record of a file
        that was not there)."""
        root = checked_root(self.root, writing=True)
        final = root / key
        try:
            made_directory(final.parent, root=root)  # made by another: checked again
        except OSError as error:
            raise self._failure(error, f"writing {self.url(key)}") from None
        if final.exists() or final.is_symlink():
            return False
        temporary = final.with_name(
            f".{final.name}.{os.getpid()}.{secrets.token_hex(4)}{writes.PARTIAL}"
        )
        try:
            writes.remove_leftovers(final.parent)
            written, digest = writes.write(temporary, source)
            if writes.digest_of(temporary) != (written, digest):  # read back
                raise ControllerError(
                    f"{self.url(key)}: what was read back differs from what was written"
                )
            _write_meta(_meta(final), content, written)
            return writes.link(temporary, final)
        except OSError as error:
            raise self._failure(error, f"writing {self.url(key)}") from None
        finally:
            temporary.unlink(missing_ok=True)

    def get(self, key: str, target: Path) -> None:
        """Copy the file at ``key`` into ``target``."""
        path = self._path(key) or self.root / key  # no directory: absent, said as such
        try:
            shutil.copyfile(path, target, follow_symlinks=False)
        except OSError as error:
            raise self._failure(error, f"copying {self.url(key)}") from None

    def delete(self, key: str) -> None:
        """Delete the file at ``key``, then its record."""
        path = self._path(key, writing=True)
        if path is None:
            return
        try:
            path.unlink(missing_ok=True)
            _meta(path).unlink(missing_ok=True)
        except OSError as error:
            raise self._failure(error, f"deleting {self.url(key)}") from None

    def _failure(self, error: OSError, doing: str) -> ControllerError:
        return ControllerError(
            f"off-site directory {self.url('')}: {doing} failed: "
            f"{error.strerror or type(error).__name__}"
        )


def _meta(path: Path) -> Path:
    return path.with_name(f".{path.name}{META}")


def _record(path: Path) -> tuple[Content, int | None] | None:
    """Return the record at ``path`` and the size of the file it records (None: a record
    written before sizes were); None when it is missing or not one of ours."""
    try:
        found = json.loads(path.read_bytes()[:4096])
        sha256, plain_size, size = found["sha256"], found.get("plaintext-size"), found.get("size")
        if not isinstance(sha256, str) or not all(
            value is None or isinstance(value, int) for value in (plain_size, size)
        ):
            return None
        encrypted = found.get("encryption") == "age"
        return Content(sha256=sha256, encrypted=encrypted, plain_size=plain_size), size
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_meta(path: Path, content: Content, size: int) -> None:
    """Record ``content``, in a file of ``size`` bytes, at ``path`` (written aside, then
    renamed over a record whose file was never made: the caller found no file)."""
    record: dict[str, object] = {"sha256": content.sha256, "size": size}
    if content.encrypted:
        record |= {"encryption": "age", "plaintext-size": content.plain_size}
    temporary = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}{writes.PARTIAL}")
    try:
        writes.write(temporary, json.dumps(record).encode())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
