"""Every variable in the order ``controller config`` prints them, and the README's
configuration tables rendered from their declarations."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pg_backup_manager.adapters.configuration import (
    core,
    hooks,
    monitoring,
    offsite,
    pitr,
    retention,
    services,
    verification,
)
from pg_backup_manager.adapters.configuration.variable import Variable

EVERY: tuple[Variable[Any], ...] = (
    *core.VARIABLES,
    *retention.VARIABLES,
    *hooks.VARIABLES,
    *monitoring.VARIABLES,
    *offsite.VARIABLES,
    *retention.OFFSITE_VARIABLES,
    *pitr.VARIABLES,
    *verification.VARIABLES,
)
SERVICE: tuple[Variable[Any], ...] = (*services.VARIABLES, *hooks.SERVICE_VARIABLES)
_HEADER = ("| Variable | Default | Meaning |", "| --- | --- | --- |")


def default_markdown(variable: Variable[Any]) -> str:
    """Return what unset means for ``variable``, as the README's default column says it."""
    if variable.unset:
        return variable.unset
    return f"`{variable.default}`" if variable.default else ""


def markdown(variables: Iterable[Variable[Any]]) -> str:
    """Return the README's table of ``variables``: name (and whether a ``_FILE`` may hold
    it), default, help."""
    rows = list(_HEADER)
    for variable in variables:
        name = f"`{variable.name}`" + (" (or `_FILE`)" if variable.from_file else "")
        cells = (name, default_markdown(variable), variable.help)
        rows.append("| " + " | ".join(cells).replace("|  |", "| |") + " |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":  # python -m ...configuration.table: the tables to paste
    print(markdown(EVERY))
    print(markdown(SERVICE))
