"""Where PostgreSQL's programs are: found lazily, at the moment one is needed."""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from pg_backup_manager.adapters import answers
from pg_backup_manager.domain.errors import ToolError

if TYPE_CHECKING:  # plumbum is imported when a program runs: list and --help run none
    from plumbum.commands.base import BaseCommand


@attrs.frozen(kw_only=True)
class PgBinaries:
    """Finds PostgreSQL programs, lazily, at the moment one is needed.

    Client tools come from ``bin_dir`` when it is set, else from the newest
    ``<root>/<major>/bin`` that has them, else from ``PATH``. Server-side tools
    (``pg_resetwal``) come from ``<root>/<major>/bin`` of the exact major version.
    """

    root: Path
    bin_dir: Path | None = None

    def client(self, program: str) -> BaseCommand:
        """Return the client tool ``program``.

        Raises:
            ToolError: it is nowhere to be found.
        """
        return command(str(self.locate(program)[0]))

    def locate(self, program: str) -> tuple[Path, str]:
        """Return the path of the client tool ``program`` and how it was found
        (``PG_BIN_DIR``, ``newest <root>/*/bin`` or ``PATH``).

        Raises:
            ToolError: it is nowhere to be found.
        """
        if self.bin_dir is not None:
            path = self.bin_dir / program
            if not path.is_file():
                raise ToolError(f"{program} of PG_BIN_DIR not found at {path}: install it")
            return path, "PG_BIN_DIR"
        for candidate in sorted(self.root.glob(f"*/bin/{program}"), key=_major_of, reverse=True):
            return candidate, f"newest {self.root}/*/bin"
        from plumbum import local
        from plumbum.commands.processes import CommandNotFound

        try:
            return Path(local.which(program)), "PATH"
        except CommandNotFound:
            raise ToolError(
                f"{program} not found in {self.root}/*/bin or PATH: install the PostgreSQL "
                "client tools or set PG_BIN_DIR"
            ) from None

    def for_major(self, major: str, program: str) -> BaseCommand:
        """Return ``program`` of PostgreSQL ``major`` exactly.

        Raises:
            ToolError: that version's tool is not installed.
        """
        path = self.root / major / "bin" / program
        if not path.is_file():
            shipped = sorted(
                candidate.parent.parent.name for candidate in self.root.glob(f"*/bin/{program}")
            )
            raise ToolError(
                f"{program} of PostgreSQL {major} is not available ({path} missing; "
                f"available: {', '.join(shipped) or 'none'}): use a {program} of version {major}"
            )
        return command(str(path))


@attrs.frozen(kw_only=True)
class ClientTools:
    """The client tools the controller runs, as ``controller config`` shows them.

    ``directory`` is pg_dump's (None: not found), ``found_by`` says how it was
    found (see :meth:`PgBinaries.locate`), ``major`` is its major version (0:
    unknown).
    """

    directory: Path | None
    found_by: str
    major: int


def client_tools(binaries: PgBinaries) -> ClientTools:
    """Return where ``binaries`` takes pg_dump from, and its version (it runs
    ``pg_dump --version``); a pg_dump found nowhere is a ClientTools without a
    directory."""
    try:
        path, found_by = binaries.locate("pg_dump")
    except ToolError:
        return ClientTools(directory=None, found_by="nowhere", major=0)
    return ClientTools(directory=path.parent, found_by=found_by, major=tools_major(str(path)))


def command(program: str) -> BaseCommand:
    """Return plumbum's command for ``program`` (a path, or a name looked up in PATH)."""
    from plumbum import local

    return local[program]


def _major_of(path: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", path.parent.parent.name)) or (0,)


_VERSION = re.compile(r"\)\s+(\d+)")
# A tool answers --version at once (in milliseconds): 10 s leave a loaded machine or a
# cold, network-mounted bin directory ample room, and bound --version, config and the
# start of a dump when a tool hangs (which BACKUP_TIMEOUT, a dump's hours, could not).
VERSION_TIMEOUT_S = 10.0
# "pg_dump (PostgreSQL) 18.1 (Debian 18.1-1.pgdg13+2)" is under 100 bytes.
VERSION_LIMIT = 4096


def version_answer(program: str) -> str:
    """Return what ``<program> --version`` says, asked once per program and process.

    Raises:
        NoAnswer: it did not answer within VERSION_TIMEOUT_S (it was killed).
        ToolError: it cannot run, it fails, or it says more than VERSION_LIMIT
            bytes (not a PostgreSQL version: the message shows how it starts).
    """
    said = _asked(program)
    if isinstance(said, ToolError):
        raise said
    return said


@functools.cache
def _asked(program: str) -> str | ToolError:
    what = f"{program} --version"
    try:
        said = answers.short_answer(
            command(program),
            ["--version"],
            what=what,
            timeout=VERSION_TIMEOUT_S,
            limit=VERSION_LIMIT,
        )
    except ToolError as error:
        return error
    if not said.whole:
        return ToolError(
            f"{what} said more than {VERSION_LIMIT} bytes, starting "
            f"{answers.excerpt(said.text)}: not a PostgreSQL version"
        )
    return said.text


def tools_major(program: str) -> int:
    """Return the major version of the PostgreSQL program at ``program`` (0 if unknown).

    Raises:
        NoAnswer: it did not answer ``--version`` in time: it would hang the command.
    """
    try:
        said = version_answer(program)
    except answers.NoAnswer:
        raise
    except ToolError:
        return 0
    found = _VERSION.search(said)
    return int(found.group(1)) if found else 0
