"""Checks of custom-format archives by ``pg_restore`` itself, with their SHA-256."""

from __future__ import annotations

import hashlib
import re
import subprocess
import tempfile
from pathlib import PurePath
from typing import IO, cast

import attrs

from pg_backup_manager.adapters.pg_tools import PgBinaries
from pg_backup_manager.adapters.processes import last_words, stop_process, track, wait_all
from pg_backup_manager.domain.errors import IntegrityError

_CHUNK = 1 << 20
_COPY = re.compile(r"COPY (?P<table>.+?) (\(.*\) )?FROM stdin;")


@attrs.frozen(kw_only=True)
class PgArchiveChecker:
    """Reads archives through ``pg_restore`` the way a restore would, but into nothing.

    ``pg_restore --list`` reads only the table of contents at the head of a
    file, so it passes a truncated archive. Here every byte goes through
    ``pg_restore -f /dev/null``, which decompresses all the data; the same
    single read feeds the SHA-256.
    """

    binaries: PgBinaries
    timeout: float

    def check(self, archive: PurePath) -> str:
        """Return the SHA-256 of ``archive`` once ``pg_restore`` has read all of it."""
        digest = hashlib.sha256()
        with tempfile.TemporaryFile() as errors, open(archive, "rb") as source:
            process = self._pg_restore(
                ["--file=/dev/null"],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=errors,
            )
            try:
                stdin = cast(IO[bytes], process.stdin)
                while chunk := source.read(_CHUNK):
                    digest.update(chunk)
                    try:
                        stdin.write(chunk)
                    except BrokenPipeError:
                        break
                stdin.close()
            except BaseException:
                stop_process(process)
                raise
            [code] = wait_all([process], timeout=self.timeout, what=f"pg_restore of {archive}")
            errors.seek(0)
            if code != 0:
                raise IntegrityError(
                    f"{archive} is damaged: pg_restore cannot read it "
                    f"({last_words(errors.read(), [])})"
                )
        return digest.hexdigest()

    def digest(self, archive: PurePath) -> str:
        """Return the SHA-256 of ``archive``."""
        with open(archive, "rb") as source:
            return hashlib.file_digest(source, "sha256").hexdigest()

    def row_counts(self, archive: PurePath) -> dict[str, int]:
        """Return the rows in each table's data section of ``archive``, by qualified name."""
        counts: dict[str, int] = {}
        with tempfile.TemporaryFile() as errors:
            process = self._pg_restore(
                ["--data-only", "--file=-", str(archive)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=errors,
            )
            try:
                table = None
                for line in cast(IO[bytes], process.stdout):
                    if table is None:
                        match = _COPY.match(line.decode(errors="replace"))
                        if match:
                            table = match["table"]
                            counts[table] = 0
                    elif line == b"\\.\n":
                        table = None
                    else:
                        counts[table] += 1
            except BaseException:
                stop_process(process)
                raise
            [code] = wait_all([process], timeout=self.timeout, what=f"pg_restore of {archive}")
            errors.seek(0)
            if code != 0:
                raise IntegrityError(
                    f"{archive} is damaged: pg_restore cannot read its data "
                    f"({last_words(errors.read(), [])})"
                )
        return counts

    def _pg_restore(
        self, args: list[str], *, stdin: int, stdout: int, stderr: IO[bytes]
    ) -> subprocess.Popen[bytes]:
        command = self.binaries.client("pg_restore")
        return track(
            cast(
                "subprocess.Popen[bytes]",
                command.popen(args, stdin=stdin, stdout=stdout, stderr=stderr),
            )
        )
