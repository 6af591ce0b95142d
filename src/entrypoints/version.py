"""``controller --version``: the controller's version, and the PostgreSQL tools it would
run with theirs.

It works with no configuration at all, as ``--help`` does: of the environment it
reads only ``PG_BIN_DIR`` and ``PG_BIN_ROOT``, and only to look (a tool that is
missing is a line that says so, and the exit code stays 0: the commands that run a
tool are the ones that refuse).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:  # imported when --version is asked for: --help and list run no tool
    from pg_backup_manager.adapters.postgres.tool_versions import ClientTool, InstalledTools
    from pg_backup_manager.entrypoints.containers import Container

# The name pyproject.toml gives the project: its installed metadata holds the version.
DISTRIBUTION = "docker-postgres-backup-manager"


def show(ctx: click.Context, _option: click.Parameter, asked: bool) -> None:
    """The ``--version`` option's callback: print the versions, then exit 0.

    The container comes as the context's object (``main`` passes it), so that
    the environment is the one the controller was given.
    """
    if not asked or ctx.resilient_parsing:
        return
    from pg_backup_manager.adapters.postgres.tool_versions import installed_tools

    container: Container = ctx.obj
    tools = installed_tools(container.environ())
    click.echo(text(controller_version(), tools))
    ctx.exit(0)


def controller_version() -> str:
    """Return the installed controller's version ("unknown" when it runs uninstalled)."""
    from importlib import metadata  # 7 ms of imports that no other option needs

    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


def text(version: str, tools: InstalledTools) -> str:
    """Return what ``--version`` prints: the controller's line, then one per tool."""
    from pg_backup_manager.adapters.postgres.tool_versions import PITR_SERVER_PROGRAMS

    lines = [f"controller {version}", *(_tool_line(tool) for tool in tools.client)]
    where = Path(tools.root) / "<major>" / "bin"
    if tools.resetwal_majors:
        lines.append(
            f"pg_resetwal of PostgreSQL {', '.join(tools.resetwal_majors)} at {where} "
            "(resetwal runs the one of the data directory's version)"
        )
    else:
        lines.append(f"pg_resetwal: none at {where} (resetwal cannot run here)")
    lines.extend(_tool_line(tool) for tool in tools.pitr_client)
    programs = ", ".join(PITR_SERVER_PROGRAMS)
    if tools.pitr_server_majors:
        lines.append(
            f"{programs} of PostgreSQL {', '.join(tools.pitr_server_majors)} at {where} "
            "(point-in-time recovery checks a server's backups with the ones of its version)"
        )
    else:
        lines.append(
            f"{programs}: none at {where} (point-in-time recovery cannot check backups here)"
        )
    return "\n".join(lines)


def _tool_line(tool: ClientTool) -> str:
    if tool.path is None:
        return tool.problem
    if tool.problem:
        return f"{tool.program} at {tool.path} ({tool.found_by}): {tool.problem}"
    return f"{tool.program} {tool.version} at {tool.path} ({tool.found_by})"
