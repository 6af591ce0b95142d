"""``pg_dump`` behind the Dumper port."""

from __future__ import annotations

from pathlib import PurePath

import attrs

from pg_backup_manager.adapters.postgres.libpq import PgClient, conninfo
from pg_backup_manager.adapters.postgres.pg_binaries import PgBinaries, tools_major
from pg_backup_manager.domain.errors import ConfigurationError
from pg_backup_manager.domain.model import Database

# pg_dump 16 brought methods (--compress=zstd:3); before, only a gzip level.
_METHODS_SINCE = 16
_NEW_METHODS = {"zstd", "lz4"}
# BACKUP_COMPRESSION unset, with tools of 16 and newer. benchmarks/dump_restore_overhead.py
# times the candidates: zstd level 1 dumps in about half the time of level 3 (zstd's
# own default), a third of gzip's, and its archives are no larger than level 3's.
DEFAULT_COMPRESSION = "zstd:1"


@attrs.frozen(kw_only=True)
class PgDump:
    """``pg_dump`` writing custom-format archives straight to their file.

    Each database's dump options (its exclusions and ``<SERVICE>_DUMP_ARGS``) follow
    the controller's own arguments, one word each. ``compression`` is
    ``BACKUP_COMPRESSION`` (``zstd:3``, ``lz4``, ``gzip:6``, ``none`` or a gzip level
    ``0``-``9``); None means zstd at level 1 (:data:`DEFAULT_COMPRESSION`) with tools
    that have it (16 and newer), else pg_dump's own default (gzip).
    """

    binaries: PgBinaries
    timeout: float
    compression: str | None = None

    def dump(self, database: Database, target: PurePath) -> None:
        """Write the archive of ``database`` to ``target``.

        Raises:
            ConfigurationError: the compression asked for needs newer tools.
            ToolError: the dump failed.
        """
        pg_dump = self.binaries.client("pg_dump")
        PgClient(binaries=self.binaries, timeout=self.timeout).run(
            "pg_dump",
            database,
            [
                "--format=custom",
                *self._compress(tools_major(str(pg_dump))),
                # Exclusions and <SERVICE>_DUMP_ARGS, checked at start: none of them can
                # change the file, format, compression or connection.
                *database.dump_options.arguments,
                f"--file={target}",
                f"--dbname={conninfo(database, database.dbname)}",
            ],
            what=f"pg_dump of {database.identifier} ({database.address})",
            capture=False,
        )

    def _compress(self, major: int) -> list[str]:
        return compress_arguments(self.compression, major)


def compress_arguments(compression: str | None, major: int) -> list[str]:
    """Return the ``--compress`` arguments of pg_dump ``major`` (0: unknown) for
    ``compression`` (``BACKUP_COMPRESSION``, None when unset: see :class:`PgDump`).

    Raises:
        ConfigurationError: the compression needs tools of 16 or newer.
    """
    if compression is None:
        return [f"--compress={DEFAULT_COMPRESSION}"] if major >= _METHODS_SINCE else []
    if major >= _METHODS_SINCE:
        return [f"--compress={compression}"]
    method, _, level = compression.partition(":")
    if method in _NEW_METHODS:
        raise ConfigurationError(
            f"BACKUP_COMPRESSION={compression} needs pg_dump {_METHODS_SINCE} or "
            f"newer, and the pg_dump in use is {major}: use gzip or none, or newer tools"
        )
    if method == "none":
        return ["--compress=0"]
    return [f"--compress={level or 6 if method == 'gzip' else method}"]
