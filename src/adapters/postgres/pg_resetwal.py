"""``pg_resetwal`` of the data directory's own major version, run as its owner."""

from __future__ import annotations

import os
import shutil
from pathlib import Path, PurePath

import attrs

from pg_backup_manager.adapters import processes
from pg_backup_manager.adapters.postgres.pg_binaries import PgBinaries
from pg_backup_manager.domain.errors import ControllerError, ToolError
from pg_backup_manager.domain.wal.ports import LockFile


@attrs.frozen(kw_only=True)
class PgResetWal:
    """Runs ``pg_resetwal`` on a data directory.

    The binary is ``<root>/<PG_VERSION>/bin/pg_resetwal``: a tool of another
    major version refuses the directory, or worse. It runs as the owner of the
    directory, since PostgreSQL's tools refuse to run as root.
    """

    binaries: PgBinaries
    timeout: float

    def server_lock(self, data_dir: PurePath) -> LockFile | None:
        """Return what ``postmaster.pid`` says, or None when there is no such file."""
        directory = _data_directory(Path(data_dir))
        try:
            first_line = (directory / "postmaster.pid").read_text().split("\n", 1)[0]
        except FileNotFoundError:
            return None
        except OSError as error:
            raise ControllerError(f"cannot read {directory}/postmaster.pid: {error}") from None
        pid = int(first_line) if first_line.strip().isdigit() else 0
        return LockFile(pid=pid, alive=pid > 0 and _is_postgres(pid))

    def preview(self, data_dir: PurePath) -> str:
        """Return what ``pg_resetwal -n`` prints for ``data_dir``; change nothing."""
        return self._run(Path(data_dir), ["-n"])

    def preserve(self, data_dir: PurePath, *, into: PurePath) -> PurePath:
        """Save the tools' reports, ``global/pg_control`` and ``pg_wal`` into ``into``."""
        directory = _data_directory(Path(data_dir))
        controldata = self._run(directory, [], program="pg_controldata")
        preview = self._run(directory, ["-n"])
        folder = Path(into)
        try:
            folder.parent.mkdir(parents=True, exist_ok=True)
            for attempt in range(2, 100):
                try:
                    folder.mkdir(mode=0o700)
                    break
                except FileExistsError:
                    folder = Path(f"{into}-{attempt}")
            for name, text in (("pg_controldata.txt", controldata), ("pg_resetwal-n.txt", preview)):
                descriptor = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(descriptor, "w") as report:
                    report.write(text)
            shutil.copy2(directory / "global" / "pg_control", folder / "pg_control")
            shutil.copytree(directory / "pg_wal", folder / "pg_wal", symlinks=False)
        except OSError as error:
            raise ControllerError(
                f"cannot save pg_control and pg_wal into {folder} ({error}): nothing was reset"
            ) from None
        return folder

    def reset(self, data_dir: PurePath, *, force: bool) -> str:
        """Reset the WAL of ``data_dir`` (``-f`` with ``force``); return the tool's output."""
        try:
            return self._run(Path(data_dir), ["-f"] if force else [])
        except ToolError as error:
            if force or "-f" not in str(error):
                raise
            raise ToolError(
                f"{error} (pg_resetwal refuses this cluster without force: add --force "
                "only if you accept losing the transactions in the damaged WAL)"
            ) from None

    def _run(self, data_dir: Path, options: list[str], program: str = "pg_resetwal") -> str:
        directory = _data_directory(data_dir)
        try:
            major = (directory / "PG_VERSION").read_text().strip()
        except OSError as error:
            raise ControllerError(f"cannot read {directory}/PG_VERSION: {error}") from None
        tool = self.binaries.for_major(major, program)
        return processes.run(
            tool,
            [*options, "-D", str(directory)],
            what=f"{program} {major} on {directory}",
            timeout=self.timeout,
        )


def _is_postgres(pid: int) -> bool:
    """Return whether ``pid`` is a PostgreSQL server process in this PID namespace.

    In a container the pid in ``postmaster.pid`` belongs to another namespace
    and may well be some other process here (often pid 1, the controller).
    """
    if not processes.is_alive(pid):
        return False
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True
    return b"postgres" in command or b"postmaster" in command


def _data_directory(path: Path) -> Path:
    """Return the data directory in the mounted volume ``path``.

    That is the volume itself (the official postgres image up to 17 mounts its
    data directory), or the one ``<major>/docker`` inside it (from 18 on, the
    image declares its volume at /var/lib/postgresql and keeps the data in
    ``18/docker``); ``PG_VERSION`` tells which.
    """
    if path.is_dir():
        _check_owner(path)
    if (path / "PG_VERSION").is_file():
        return path
    nested = sorted(found.parent for found in path.glob("*/docker/PG_VERSION") if found.is_file())
    if len(nested) > 1:
        raise ControllerError(
            f"{path} holds the data directories of several versions "
            f"({', '.join(str(d.relative_to(path)) for d in nested)}): mount only the one to reset"
        )
    if not nested:
        raise ControllerError(
            f"{path} is not a PostgreSQL data directory (no PG_VERSION there or in "
            "<major>/docker): mount the database's volume there"
        )
    _check_owner(nested[0])
    return nested[0]


def _check_owner(directory: Path) -> None:
    """Refuse a data directory that this user does not own: pg_resetwal would fail on it.

    The controller never runs as root (it becomes CONTROLLER_USER first), so
    the owner of the directory must be the user it runs as.
    """
    owner = directory.stat().st_uid
    if owner != os.geteuid():
        raise ControllerError(
            f"{directory} belongs to uid {owner} but the controller runs as uid "
            f"{os.geteuid()}: pg_resetwal must run as the data directory's owner "
            "(the official postgres image and the controller image both use uid 999)"
        )
