"""``pg_dump`` behind the Dumper port, its archive checked as it is written."""

from __future__ import annotations

import hashlib
import signal
import subprocess
from pathlib import PurePath

import attrs

from pg_backup_manager.adapters import processes
from pg_backup_manager.adapters.libpq import PgClient, conninfo, with_hint
from pg_backup_manager.adapters.pg_binaries import PgBinaries, command, tools_major
from pg_backup_manager.domain.errors import (
    ConfigurationError,
    ControllerError,
    IntegrityError,
    ToolError,
)
from pg_backup_manager.domain.model import Database

# pg_dump 16 brought methods (--compress=zstd:3); before, only a gzip level.
_METHODS_SINCE = 16
_NEW_METHODS = {"zstd", "lz4"}
# BACKUP_COMPRESSION unset, with tools of 16 and newer. benchmarks/dump_restore_overhead.py
# times the candidates: zstd level 1 dumps in about half the time of level 3 (zstd's
# own default), a third of gzip's, and its archives are no larger than level 3's.
DEFAULT_COMPRESSION = "zstd:1"
_BROKEN_PIPE = "Broken pipe"


@attrs.frozen(kw_only=True)
class PgDump:
    """``pg_dump`` of a custom-format archive, read back by ``pg_restore`` as it is written.

    ``pg_dump`` writes to a pipe; ``tee`` writes the stream to the archive's
    file and passes it on to ``pg_restore -f /dev/null``, which reads all of it
    and decompresses every block, at the same time as the dump: no second pass
    over the file. The data never passes through this process. (An archive
    written to a pipe carries no data offsets in its table of contents;
    ``pg_restore`` finds the blocks by scanning, in parallel restores too.)

    ``compression`` is ``BACKUP_COMPRESSION`` (``zstd:3``, ``lz4``, ``gzip:6``,
    ``none`` or a gzip level ``0``-``9``); None means zstd at level 1
    (:data:`DEFAULT_COMPRESSION`) with tools that have it (16 and newer), else
    pg_dump's own default (gzip).
    """

    binaries: PgBinaries
    timeout: float
    compression: str | None = None

    def dump(self, database: Database, target: PurePath) -> str:
        """Write the archive of ``database`` to ``target``, read to its end by
        ``pg_restore`` as it is written; return its SHA-256.

        Raises:
            ConfigurationError: the compression asked for needs newer tools.
            ToolError: the dump failed.
            ControllerError: the file could not be written.
            IntegrityError: ``pg_restore`` could not read what ``pg_dump`` wrote.
        """
        pg_dump = self.binaries.client("pg_dump")
        args = [
            "--format=custom",
            *self._compress(tools_major(str(pg_dump))),
            f"--dbname={conninfo(database, database.dbname)}",
        ]
        what = f"pg_dump of {database.identifier} ({database.address})"
        pipe = subprocess.PIPE
        client = PgClient(binaries=self.binaries, timeout=self.timeout)
        with (
            client.started("pg_dump", database, args, what=what, stdout=pipe) as dumper,
            processes.started(
                command("tee"),
                [str(target)],
                what=f"writing {target}",
                stdin=dumper.stdout,
                stdout=pipe,
            ) as writer,
            processes.started(
                self.binaries.client("pg_restore"),
                ["--file=/dev/null"],
                what=f"pg_restore reading the archive of {database.identifier}",
                stdin=writer.stdout,
            ) as reader,
        ):
            # Only the programs hold the pipes now: each sees its neighbour's end.
            dumper.stdout.close()
            writer.stdout.close()
            codes = processes.wait_all([reader, writer, dumper], timeout=self.timeout)
            _raise_first_cause(database, dumper, writer, reader, *codes)
        with open(target, "rb") as written:
            return hashlib.file_digest(written, "sha256").hexdigest()

    def _compress(self, major: int) -> list[str]:
        if self.compression is None:
            return [f"--compress={DEFAULT_COMPRESSION}"] if major >= _METHODS_SINCE else []
        if major >= _METHODS_SINCE:
            return [f"--compress={self.compression}"]
        method, _, level = self.compression.partition(":")
        if method in _NEW_METHODS:
            raise ConfigurationError(
                f"BACKUP_COMPRESSION={self.compression} needs pg_dump {_METHODS_SINCE} or "
                f"newer, and the pg_dump in use is {major}: use gzip or none, or newer tools"
            )
        if method == "none":
            return ["--compress=0"]
        return [f"--compress={level or 6 if method == 'gzip' else method}"]


def _raise_first_cause(
    database: Database,
    dumper: processes.Started,
    writer: processes.Started,
    reader: processes.Started,
    read: int,
    wrote: int,
    dumped: int,
) -> None:
    """Raise the error that explains a failed pipeline; a program that only lost its
    reader (a broken pipe) explains nothing."""
    secrets = [database.password]
    if dumped != 0 and not _lost_its_reader(dumper, dumped):
        raise ToolError(with_hint(str(dumper.failure(dumped, secrets)), database))
    if wrote != 0 and not _lost_its_reader(writer, wrote):
        raise ControllerError(f"{writer.failure(wrote)}")
    if read != 0:
        raise IntegrityError(
            f"the archive pg_dump wrote cannot be read by pg_restore: {reader.said()}"
        )
    if dumped != 0:
        raise ToolError(with_hint(str(dumper.failure(dumped, secrets)), database))
    if wrote != 0:
        raise ControllerError(f"{writer.failure(wrote)}")


def _lost_its_reader(tool: processes.Started, code: int) -> bool:
    return code == -signal.SIGPIPE or _BROKEN_PIPE in tool.said()
