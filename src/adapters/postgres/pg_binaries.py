"""Where PostgreSQL's programs are: found lazily, at the moment one is needed."""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from pg_backup_manager.adapters import processes
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


@functools.cache
def tools_major(program: str) -> int:
    """Return the major version of the PostgreSQL program at ``program`` (0 if unknown).

    Asked once per program and process (``<program> --version``).
    """
    try:
        out = processes.run(
            command(program), ["--version"], what=f"{program} --version", timeout=60
        )
    except ToolError:
        return 0
    found = _VERSION.search(out)
    return int(found.group(1)) if found else 0
