"""One variable of the environment, declared once, and how it is read."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from typing import Generic, TypeVar

import attrs

from pg_backup_manager.adapters.env_values import secret

T = TypeVar("T")
# A family's variables name their service by this placeholder: <SERVICE>_POSTGRES_HOST.
SERVICE = "<SERVICE>"


class Shown(enum.Enum):
    """How ``controller config`` shows a value set in the environment."""

    PLAIN = "plain"
    SECRET = "secret"  # never: ***
    NOTIFY = "notify"  # each Apprise URL as Apprise shows it in private
    PING = "ping"  # its scheme and host alone
    URL = "url"  # with its credentials redacted
    PUBLIC_KEYS = "public keys"  # as given, unless a secret key slipped in: ***


@attrs.frozen(kw_only=True)
class Variable(Generic[T]):
    """A variable: ``parse`` turns its text into the value the controller uses.

    ``parse(text, variable)`` gets the text as set (or as the file of ``<name>_FILE``
    holds it, when ``from_file``), or ``default`` when the variable is unset or blank,
    and the name of the variable the text came from, for its messages; it raises
    ConfigurationError naming that variable. A variable whose default is worked out
    from others has ``default=""`` (its parser returns None or an empty value for it)
    and says how in ``unset``. ``parse`` is None for a variable that another function
    checks together with its neighbours (the off-site ones, in
    ``adapters.offsite.settings``).
    """

    name: str
    help: str
    parse: Callable[[str, str], T] | None
    default: str = ""
    unset: str = ""  # what unset means when it is not ``default`` (Markdown)
    shown: Shown = Shown.PLAIN
    from_file: bool = False  # <name>_FILE may name a file that holds the value

    @property
    def file_variable(self) -> str:
        """Return ``<name>_FILE``."""
        return f"{self.name}_FILE"

    def found(self, environ: Mapping[str, str]) -> tuple[str, str] | None:
        """Return the text set for this variable and the variable it came from (its
        ``_FILE`` when read from a file), or None when it is unset or blank.

        Raises:
            ConfigurationError: both it and its ``_FILE`` are set, or the file cannot
                be read, is not UTF-8 or is empty.
        """
        if self.from_file:
            return secret(environ, self.name)
        text = environ.get(self.name, "")
        return (text, self.name) if text.strip() else None

    def lookup(self, environ: Mapping[str, str]) -> tuple[T, str]:
        """Return the value the controller uses and the variable it came from (the
        variable itself when unset).

        Raises:
            ConfigurationError: the text is malformed; the message names the variable.
        """
        if self.parse is None:
            raise TypeError(f"{self.name} is read by its group, not on its own")
        text, source = self.found(environ) or (self.default, self.name)
        return self.parse(text, source), source

    def read(self, environ: Mapping[str, str]) -> T:
        """Return the value the controller uses (see :meth:`lookup`)."""
        return self.lookup(environ)[0]

    def of(self, identifier: str) -> Variable[T]:
        """Return this family variable for the service ``identifier``."""
        return attrs.evolve(self, name=self.name.replace(SERVICE, env_prefix(identifier)))


def env_prefix(identifier: str) -> str:
    """Return the variable prefix of a service: upper-cased, ``-`` turned into ``_``."""
    return identifier.upper().replace("-", "_")
