"""Which PostgreSQL programs the controller would run, and their versions
(``controller --version``): a report, so a tool that is missing is a line that says
so, never an error."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import attrs

from pg_backup_manager.adapters.answers import excerpt
from pg_backup_manager.adapters.configuration import core
from pg_backup_manager.adapters.env_values import CLIENT_TOOLS
from pg_backup_manager.adapters.postgres.pg_binaries import PgBinaries, version_answer
from pg_backup_manager.domain.errors import ToolError

# pg_resetwal is chosen per data directory, by its major version.
SERVER_TOOL = "pg_resetwal"
# Point-in-time recovery: the client tools that stream WAL and take base backups
# (any server up to their own version), and the programs of the server's own major
# version that check and replay them (pg_waldump reads only its version's WAL).
PITR_CLIENT_TOOLS = ("pg_basebackup", "pg_receivewal")
PITR_SERVER_PROGRAMS = ("postgres", "pg_verifybackup", "pg_waldump")
_VERSION = re.compile(r"\(PostgreSQL\)\s+(\S+)")


@attrs.frozen(kw_only=True)
class ClientTool:
    """One client tool: where it is and its version, or why it cannot be used.

    ``path`` is None when the tool is nowhere to be found (``problem`` says
    where it was looked for); ``version`` is what ``<tool> --version`` reports
    (``18.1``), empty when it could not tell (``problem`` says why).
    """

    program: str
    path: Path | None = None
    found_by: str = ""
    version: str = ""
    problem: str = ""


@attrs.frozen(kw_only=True)
class InstalledTools:
    """The client tools the controller runs, and the majors of ``pg_resetwal`` under
    ``root`` (``<root>/<major>/bin``, one picked per data directory).

    ``pitr_client`` are the client tools of point-in-time recovery;
    ``pitr_server_majors`` the majors whose ``<root>/<major>/bin`` has every one of
    PITR_SERVER_PROGRAMS.
    """

    client: tuple[ClientTool, ...]
    root: Path
    resetwal_majors: tuple[str, ...]
    pitr_client: tuple[ClientTool, ...] = ()
    pitr_server_majors: tuple[str, ...] = ()


def installed_tools(environ: Mapping[str, str]) -> InstalledTools:
    """Return the tools that ``PG_BIN_DIR`` and ``PG_BIN_ROOT`` of ``environ`` lead to, and
    their versions (each client tool is run with ``--version``).

    The two variables are read through their declarations, ``PG_BIN_DIR`` as set
    but not checked: one without a tool is reported tool by tool. Never raises for a
    tool that is missing or broken.
    """
    bin_dir = core.PG_BIN_DIR.found(environ)  # its text, unchecked
    binaries = PgBinaries(
        root=core.PG_BIN_ROOT.read(environ),
        bin_dir=Path(bin_dir[0].strip()) if bin_dir is not None else None,
    )
    return InstalledTools(
        client=tuple(_client_tool(binaries, program) for program in CLIENT_TOOLS),
        root=binaries.root,
        resetwal_majors=_majors_with(binaries.root, (SERVER_TOOL,)),
        pitr_client=tuple(_client_tool(binaries, program) for program in PITR_CLIENT_TOOLS),
        pitr_server_majors=_majors_with(binaries.root, PITR_SERVER_PROGRAMS),
    )


def _majors_with(root: Path, programs: tuple[str, ...]) -> tuple[str, ...]:
    """The majors whose ``<root>/<major>/bin`` holds every one of ``programs``, in order."""
    majors = {path.parent.parent.name for path in root.glob(f"*/bin/{programs[0]}")}
    kept = (
        major for major in majors if all((root / major / "bin" / p).is_file() for p in programs)
    )
    return tuple(sorted(kept, key=lambda major: (len(major), major)))


def _client_tool(binaries: PgBinaries, program: str) -> ClientTool:
    try:
        path, found_by = binaries.locate(program)
    except ToolError as error:
        return ClientTool(program=program, problem=str(error))
    try:
        said = version_answer(str(path))
    except ToolError as error:
        return ClientTool(program=program, path=path, found_by=found_by, problem=str(error))
    found = _VERSION.search(said)
    if found is None:
        problem = f"{path} --version said {excerpt(said)}, not a PostgreSQL version"
        return ClientTool(program=program, path=path, found_by=found_by, problem=problem)
    return ClientTool(program=program, path=path, found_by=found_by, version=found.group(1))
