"""What a program the controller runs says: its stderr, kept in a temporary file, and
the cause of its failure picked out of it for a one-line error."""

from __future__ import annotations

import contextlib
import re
import tempfile
from collections.abc import Iterator, Sequence
from typing import IO

from pg_backup_manager.domain.errors import ToolError

_CAUSE = re.compile(r"error:|fatal|detail:|hint:|could not|refused|denied", re.IGNORECASE)
_HINT = re.compile(r"hint:", re.IGNORECASE)


@contextlib.contextmanager
def temporary_file(what: str) -> Iterator[IO[bytes]]:
    """Yield an unnamed temporary file (mode 0600) for ``what``; a full or missing TMPDIR is a
    ToolError."""
    try:
        errors = tempfile.TemporaryFile()  # noqa: SIM115 (closed by the with below)
    except OSError as error:
        raise ToolError(
            f"{what}: cannot make a temporary file ({error.strerror or error}): "
            f"check TMPDIR ({tempfile.gettempdir()})"
        ) from None
    with errors:
        yield errors


def last_words(said: bytes | None, secrets: Sequence[str], lines: int = 4) -> str:
    """Return what a program said about its failure, on one line, ``secrets`` blanked.

    The lines that carry the cause (``error:``, ``FATAL``, ``detail:``, ``hint:``)
    are preferred over the last lines, which are often context.
    """
    text = (said or b"").decode(errors="replace")
    for secret in secrets:
        # A short or common password would blank ordinary words of the message.
        if len(secret) >= 6 and secret != "postgres":
            text = text.replace(secret, "***")
    lines_said = [line.strip() for line in text.splitlines() if line.strip()]
    causes = [line for line in lines_said if _CAUSE.search(line)]
    if all(_HINT.search(line) for line in causes):  # a hint alone is not the cause
        causes = []
    picked = causes[:lines] if causes else lines_said[-lines:]
    return " | ".join(picked) or "no message"
