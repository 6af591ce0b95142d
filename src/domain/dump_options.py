"""What a database's dumps pass to ``pg_dump`` besides the controller's own arguments, and
whether a backup made with them is whole or partial."""

from __future__ import annotations

import shlex
from collections.abc import Sequence

import attrs


def _within_arguments(
    instance: DumpOptions, attribute: attrs.Attribute[tuple[str, ...]], value: tuple[str, ...]
) -> None:
    if not set(value) <= set(instance.arguments):
        raise ValueError(f"{attribute.name} must be among the arguments, got {value!r}")


@attrs.frozen(kw_only=True)
class DumpOptions:
    """The extra ``pg_dump`` arguments of a database's dumps, each one word (never read by a
    shell), after the controller's own (format, compression, file, connection).

    ``left_out`` are those of ``arguments`` that leave something of the database out
    of the archive (a table, a schema, an extension, a table's rows, its large
    objects): a backup made with any of them is *partial*, and records them.
    """

    arguments: tuple[str, ...] = ()
    left_out: tuple[str, ...] = attrs.field(default=(), validator=_within_arguments)

    @property
    def partial(self) -> bool:
        """Return whether a backup made with these options leaves something out."""
        return bool(self.left_out)

    def whole(self) -> DumpOptions:
        """Return these options without those that leave something out: what a restore's
        safety dump uses, so that it saves everything the restore replaces."""
        return DumpOptions(arguments=tuple(a for a in self.arguments if a not in self.left_out))


def left_out_words(left_out: Sequence[str]) -> str:
    """Return what a partial backup left out, for people: the pg_dump arguments its note
    records, each quoted as a shell would read it back, or that they could not be read
    (``left_out`` empty)."""
    return shlex.join(left_out) or "(what it left out could not be read)"
