"""Checks of custom-format archives by ``pg_restore`` itself, with their SHA-256:
the ArchiveChecker port."""

from __future__ import annotations

import hashlib
import re
import subprocess
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from pathlib import PurePath

import attrs

from pg_backup_manager.adapters import processes
from pg_backup_manager.adapters.postgres.pg_binaries import PgBinaries
from pg_backup_manager.domain.errors import IntegrityError, ToolError
from pg_backup_manager.domain.model import ArchiveTable
from pg_backup_manager.domain.names import MadeBy

# "<dump id>; <catalog oid> <oid> TABLE DATA <schema> <table> <owner>", as --list prints it.
_TABLE_DATA = re.compile(r"\d+; \d+ \d+ TABLE DATA (?P<label>.*)")
_MADE_BY = {
    "server": re.compile(r"^;\s+Dumped from database version: (\S+)", re.MULTILINE),
    "pg_dump": re.compile(r"^;\s+Dumped by pg_dump version: (\S+)", re.MULTILINE),
}


@attrs.frozen(kw_only=True)
class PgArchiveChecker:
    """Reads archives through ``pg_restore`` the way a restore would, but into nothing.

    ``pg_restore --list`` reads only the table of contents at the head of a
    file, so it passes a truncated archive. Here ``pg_restore -f /dev/null``
    reads the whole archive and decompresses all its data, while this process
    hashes the same file: the two reads run at once, on two cores. They read
    the same bytes, as only the controller's user may write where archives are
    checked (its private staging directory, backup directories closed to others).
    """

    binaries: PgBinaries
    timeout: float

    def check(self, archive: PurePath) -> str:
        """Return the SHA-256 of ``archive`` once ``pg_restore`` has read all of it.

        Raises:
            IntegrityError: ``pg_restore`` cannot read it to its end.
        """
        with self._pg_restore(archive, ["--file=/dev/null", str(archive)]) as reader:
            checksum = self.digest(archive)
            [code] = processes.wait_all([reader], timeout=self.timeout)
            if code != 0:
                raise IntegrityError(
                    f"{archive} is damaged: pg_restore cannot read it ({reader.said()})"
                )
        return checksum

    def digest(self, archive: PurePath) -> str:
        """Return the SHA-256 of ``archive``."""
        with open(archive, "rb") as source:
            return hashlib.file_digest(source, "sha256").hexdigest()

    def made_by(self, archive: PurePath) -> MadeBy:
        """Return the versions of pg_dump and of the server that ``archive``'s header names."""
        listing = self._listing(archive)
        said = {key: found.group(1) for key, found in _said(listing)}
        return MadeBy(pg_dump=said.get("pg_dump"), server=said.get("server"))

    def row_counts(self, archive: PurePath) -> list[ArchiveTable]:
        """Return each table data entry of ``archive``, labelled as its table of contents
        lists it, with the rows of its data.

        ``pg_restore --data-only`` writes the data entries in the order of the
        table of contents, each as one COPY block ended by a ``\\.`` line; the
        n-th block is the n-th ``TABLE DATA`` entry of ``pg_restore --list``.
        No name is read out of the SQL text.
        """
        listing = self._listing(archive)
        entries = [m["label"] for m in map(_TABLE_DATA.fullmatch, listing.split("\n")) if m]
        with self._pg_restore(
            archive, ["--data-only", "--file=-", str(archive)], stdout=subprocess.PIPE
        ) as reader:
            blocks = _rows_per_copy_block(reader.stdout)
            [code] = processes.wait_all([reader], timeout=self.timeout)
            if code != 0:
                raise IntegrityError(
                    f"{archive} is damaged: pg_restore cannot read its data ({reader.said()})"
                )
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
            return processes.run(
                self.binaries.client("pg_restore"),
                ["--list", str(archive)],
                what=f"pg_restore --list of {archive}",
                timeout=self.timeout,
            )
        except ToolError as error:
            raise IntegrityError(f"{archive} is damaged: {error}") from None

    def _pg_restore(
        self,
        archive: PurePath,
        args: list[str],
        *,
        stdin: processes.Stream = subprocess.DEVNULL,
        stdout: processes.Stream = subprocess.DEVNULL,
    ) -> AbstractContextManager[processes.Started]:
        command = self.binaries.client("pg_restore")
        what = f"pg_restore of {archive}"
        return processes.started(command, args, what=what, stdin=stdin, stdout=stdout)


def _said(listing: str) -> Iterator[tuple[str, re.Match[str]]]:
    for key, pattern in _MADE_BY.items():
        found = pattern.search(listing)
        if found is not None:
            yield key, found


def _rows_per_copy_block(lines: Iterable[bytes]) -> list[int]:
    """Return the rows of each COPY block of ``pg_restore --data-only`` output, in order.

    COPY text data has no raw line break inside a row, so ``\\.`` alone on a
    line ends a block; a statement may span lines (a name with a line break).
    """
    blocks: list[int] = []
    in_statement = in_data = False
    for line in lines:
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
    return blocks
