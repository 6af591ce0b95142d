"""A PostgreSQL tool's password, in a passfile of its own (``PGPASSFILE``): never in the
tool's environment, which a process of the same user reads in ``/proc/<pid>/environ``,
nor in its arguments, which every process list shows."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from pg_backup_manager.adapters.tool_output import temporary_file
from pg_backup_manager.domain.errors import ToolError
from pg_backup_manager.domain.model import Database


@contextlib.contextmanager
def passfile(database: Database, *, variable: str) -> Iterator[int]:
    """Yield the descriptor of a passfile holding ``database``'s password for one tool's
    run (give it as ``PGPASSFILE=/dev/fd/<it>``); it is closed, and gone, after the block.

    The file is the user's alone (mode 0600) and has no name: made with ``O_TMPFILE``,
    or unlinked as soon as it is made where the file system cannot, so no directory
    lists it, no other program opens it but the tool that inherits it, and a controller
    killed in the middle leaves nothing behind.

    Raises:
        ToolError: no temporary file can be made (TMPDIR), or the password (of
            ``variable``) holds a line break, which a passfile cannot carry.
    """
    if "\n" in database.password or "\r" in database.password:
        raise ToolError(f"{variable}: a password with a line break cannot be given to the tools")
    with temporary_file(f"{database.identifier}: the tools' passfile") as file:
        file.write(passfile_line(database.user, database.password))
        file.flush()
        yield file.fileno()


def passfile_line(user: str, password: str) -> bytes:
    """Return the passfile line that gives ``password`` to ``user`` on any host, port and
    database (the file serves one tool, which connects to one server), each ``:`` and
    ``\\`` escaped as libpq reads them."""
    return f"*:*:*:{_escaped(user)}:{_escaped(password)}\n".encode(errors="surrogateescape")


def _escaped(field: str) -> str:
    return field.replace("\\", "\\\\").replace(":", "\\:")


def pgpassfile(descriptor: int) -> str:
    """Return the ``PGPASSFILE`` of the passfile open as ``descriptor`` in the tool."""
    return f"/dev/fd/{descriptor}"
