"""How a database of a server is named: ``<service>/<database>`` for people, and a
directory of its own under its service's for files and off-site keys.

With ``<SERVICE>_POSTGRES_DB=*`` a service backs up every database of its server. Each
is named ``<service>/<database>`` wherever people see or type it (commands, history,
status, metrics, notifications), and its backups live in ``<root>/<service>/<segment>/``
(the same under the shared root and off-site), ``<segment>`` being the database name
made a safe path segment by :func:`segment`:

- every byte of its UTF-8 outside ``[a-z0-9_-]`` is written ``%XX`` (upper-case hex):
  ``.``, ``/``, ``%``, spaces, control characters, non-ASCII letters, and upper-case
  letters too, so that a file system that ignores case (an SMB share off-site) never
  makes ``Sales`` and ``sales`` one directory;
- a name the service's own directory uses beside its databases (``pitr``) has its first
  byte written so too. Every other name there holds a ``.`` (``history.jsonl``,
  ``databases.json``, hidden files, backups) or a ``:`` (``resetwal-<time>``), which a
  segment never holds.

So a segment is never empty, ``.`` or ``..``, never holds ``/``, never starts with
``.``, never is a name of the service's own, and no two names share one:
:func:`name_of` gives the name back, and refuses every other spelling.
"""

from __future__ import annotations

import re

from pg_backup_manager.domain.errors import ConfigurationError

SEPARATOR = "/"
# PostgreSQL's NAMEDATALEN - 1: the longest name a server keeps.
MAX_NAME_BYTES = 63
# Names a service's directory holds beside its databases' directories, without a dot.
RESERVED = frozenset({"pitr"})
_KEPT = frozenset(b"abcdefghijklmnopqrstuvwxyz0123456789_-")
_SEGMENT = re.compile(r"(?:[a-z0-9_-]|%[0-9A-F]{2})+")
_PART = re.compile(r"%[0-9A-F]{2}|.")


def check_database_name(name: str, *, where: str = "") -> str:
    """Return ``name`` if it can name a database of a server: 1 to 63 bytes of UTF-8,
    no NUL.

    Raises:
        ConfigurationError: it cannot (``where`` says where it was given).
    """
    try:
        size = len(name.encode("utf-8"))
    except UnicodeEncodeError:
        size = 0
    if not 1 <= size <= MAX_NAME_BYTES or "\0" in name:
        raise ConfigurationError(
            f"invalid database name {name!r}{where}: a PostgreSQL database name is 1 to "
            f"{MAX_NAME_BYTES} bytes of UTF-8, without NUL"
        )
    return name


def segment(name: str) -> str:
    """Return the path segment of database ``name`` (see the module): reversible by
    :func:`name_of`, never a path of its own, never a name its service uses."""
    data = check_database_name(name).encode("utf-8")
    text = "".join(chr(byte) if byte in _KEPT else f"%{byte:02X}" for byte in data)
    if text in RESERVED:
        text = f"%{data[0]:02X}" + text[1:]
    return text


def name_of(text: str) -> str | None:
    """Return the database name whose segment is ``text``; None when ``text`` is no
    segment (a file of the service's own, a hand-made directory, another spelling)."""
    if _SEGMENT.fullmatch(text) is None:
        return None
    data = bytes(
        int(part[1:], 16) if part.startswith("%") else ord(part) for part in _PART.findall(text)
    )
    try:
        name = data.decode("utf-8")
        # One spelling only: ``%61`` for ``a`` or a reserved name left bare is no segment.
        return name if segment(name) == text else None
    except (UnicodeDecodeError, ConfigurationError):
        return None


def printable(text: str) -> str:
    """Return ``text`` as every human-readable output shows it (commands' text, logs,
    notifications; JSON keeps it exact): each character that does not print (a newline,
    a tab, an escape, a Unicode line separator) written as Python writes it in a string,
    ``\\n``, ``\\t``, ``\\x1b``, ``\\u2028``; spaces and every other character as they are. So a
    database's name can never make a line of its own."""
    return "".join(
        char if char == " " or char.isprintable() else char.encode("unicode_escape").decode()
        for char in text
    )


def split(identifier: str) -> tuple[str, str | None]:
    """Return the service of ``identifier`` and its database (None: the service's one
    database, ``<SERVICE>_POSTGRES_DB``)."""
    service, separator, name = identifier.partition(SEPARATOR)
    return service, (name if separator else None)


def joined(service: str, name: str) -> str:
    """Return the identifier of database ``name`` of ``service``: ``<service>/<name>``."""
    return f"{service}{SEPARATOR}{name}"


def segments(identifier: str) -> tuple[str, ...]:
    """Return the path segments of ``identifier``'s directory under a root: the service,
    then, for a database of a server, its :func:`segment`."""
    service, name = split(identifier)
    return (service,) if name is None else (service, segment(name))


# The shape of the names of the controller's temporary databases (restore.scratch makes
# them: ``<target>_<restore|verify|replaced>_<12 hex>_<14 digits>``).
_SCRATCH_SHAPE = re.compile(r"_(?:restore|verify|replaced)_[0-9a-f]{12}_\d{14}\Z")


def is_scratch_name(name: str) -> bool:
    """Return whether ``name`` has the shape of a temporary database of the controller's
    (of any service and target): never a database of a server to back up."""
    return _SCRATCH_SHAPE.search(name) is not None
