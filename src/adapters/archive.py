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
from pg_backup_manager.adapters.processes import (
    last_words,
    run_tool,
    stop_process,
    track,
    wait_all,
)
from pg_backup_manager.domain.errors import IntegrityError, ToolError
from pg_backup_manager.domain.model import ArchiveTable

_CHUNK = 1 << 20
# "<dump id>; <catalog oid> <oid> TABLE DATA <schema> <table> <owner>", as --list prints it.
_TABLE_DATA = re.compile(r"\d+; \d+ \d+ TABLE DATA (?P<label>.*)")


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

    def row_counts(self, archive: PurePath) -> list[ArchiveTable]:
        """Return each table data entry of ``archive``, labelled as its table of contents
        lists it, with the rows of its data.

        ``pg_restore --data-only`` writes the data entries in the order of the
        table of contents, each as one COPY block ended by a ``\\.`` line; the
        n-th block is the n-th ``TABLE DATA`` entry of ``pg_restore --list``.
        No name is read out of the SQL text.
        """
        entries = [
            match["label"]
            for match in map(_TABLE_DATA.fullmatch, self._listing(archive).split("\n"))
            if match is not None
        ]
        blocks = self._copy_block_rows(archive)
        if len(blocks) != len(entries):
            raise IntegrityError(
                f"{archive} is damaged: its table of contents lists {len(entries)} tables "
                f"with data, its data holds {len(blocks)}"
            )
        return [
            ArchiveTable(label=label, rows=rows)
            for label, rows in zip(entries, blocks, strict=True)
        ]

    def _listing(self, archive: PurePath) -> str:
        try:
            return run_tool(
                self.binaries.client("pg_restore"),
                ["--list", str(archive)],
                what=f"pg_restore --list of {archive}",
                timeout=self.timeout,
            )
        except ToolError as error:
            raise IntegrityError(f"{archive} is damaged: {error}") from None

    def _copy_block_rows(self, archive: PurePath) -> list[int]:
        blocks: list[int] = []
        with tempfile.TemporaryFile() as errors:
            process = self._pg_restore(
                ["--data-only", "--file=-", str(archive)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=errors,
            )
            try:
                # COPY text data has no raw line break inside a row, so "\\." alone on
                # a line ends a block; a statement may span lines (a name with one).
                in_statement = in_data = False
                for line in cast(IO[bytes], process.stdout):
                    if in_data:
                        if line == b"\\.\n":
                            in_data = False
                        else:
                            blocks[-1] += 1
                    elif in_statement or line.startswith(b"COPY "):
                        in_statement = not line.endswith(b" FROM stdin;\n")
                        if not in_statement:
                            in_data = True
                            blocks.append(0)
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
        return blocks

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
