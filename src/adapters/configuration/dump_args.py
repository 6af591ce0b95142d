"""The parsers of a service's exclusions and ``<SERVICE>_DUMP_ARGS``, and the dump options
they make together.

``<SERVICE>_DUMP_ARGS`` is split into words as a shell would (:func:`shlex.split`,
never a shell), then read as pg_dump's ``getopt_long`` reads its arguments: long
options by any unambiguous prefix (``--fil=x`` is ``--file``), with their value
after ``=`` or as the next word; letters alone, combined (``-xO``) or with their
value attached (``-fout``) or next. Each option found is judged by
:mod:`~pg_backup_manager.adapters.configuration.pg_dump_options` and passed on by
its full name, so pg_dump reads exactly what was judged, whatever its version.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator

import attrs

from pg_backup_manager.adapters.configuration.pg_dump_options import (
    BY_LETTER,
    BY_NAME,
    PgDumpOption,
)
from pg_backup_manager.domain.dump_options import DumpOptions
from pg_backup_manager.domain.errors import ConfigurationError

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@attrs.frozen
class Argument:
    """One pg_dump argument, as passed on (``--name`` or ``--name=value``), and whether it
    leaves something of the database out."""

    text: str
    narrows: bool = False


def patterns(text: str, variable: str) -> tuple[str, ...]:
    """Return the patterns of ``text``, separated by commas outside double quotes (pg_dump
    reads a double-quoted name as written, a comma in it included); blanks around each,
    and empty ones, are dropped.

    Raises:
        ConfigurationError: a double quote is not closed, or a pattern holds a control
            character; the message names the variable.
    """
    found, start, quoted = [], 0, False
    for at, character in enumerate(text):
        if character == '"':
            quoted = not quoted
        elif character == "," and not quoted:
            found.append(text[start:at])
            start = at + 1
    if quoted:
        raise ConfigurationError(
            f"{variable}: a double quote is not closed: write a name with capitals, commas or "
            'spaces between double quotes, e.g. "Sales, 2024", and a double quote in it twice'
        )
    found.append(text[start:])
    kept = tuple(pattern.strip() for pattern in found if pattern.strip())
    if any(_CONTROL.search(pattern) for pattern in kept):
        raise ConfigurationError(f"{variable}: a pattern holds a control character")
    return kept


def dump_args(text: str, variable: str) -> tuple[Argument, ...]:
    """Return the pg_dump arguments of ``text`` (see the module), each by its full name.

    Raises:
        ConfigurationError: ``text`` cannot be split into words (an unclosed quote), a
            word holds a control character, an option is unknown, ambiguous, refused
            (it would break the controller), lacks its value or has one it does not
            take, or a word is no option; the message names the variable and the
            option, never a value.
    """
    try:
        words = shlex.split(text)
    except ValueError as error:
        raise ConfigurationError(
            f"{variable} cannot be split into words as a shell would: {str(error).lower()}"
        ) from None
    if any(_CONTROL.search(word) for word in words):
        raise ConfigurationError(f"{variable}: a word holds a control character")
    return tuple(_arguments(words, variable))


def dump_options(
    *,
    tables: tuple[str, ...],
    table_data: tuple[str, ...],
    schemas: tuple[str, ...],
    extra: tuple[Argument, ...],
) -> DumpOptions:
    """Return the dump options of a service: its exclusions, then its ``DUMP_ARGS``."""
    excluded = (
        *(f"--exclude-table={pattern}" for pattern in tables),
        *(f"--exclude-table-data={pattern}" for pattern in table_data),
        *(f"--exclude-schema={pattern}" for pattern in schemas),
    )
    return DumpOptions(
        arguments=(*excluded, *(argument.text for argument in extra)),
        left_out=(*excluded, *(argument.text for argument in extra if argument.narrows)),
    )


def _arguments(words: list[str], variable: str) -> Iterator[Argument]:
    """Yield the argument of each option of ``words``, read as getopt_long reads them."""
    rest = iter(words)
    for word in rest:
        if word == "--":
            raise _refusal(
                variable,
                "--",
                "it ends pg_dump's options: the next word would be taken for a database name",
            )
        if word.startswith("--"):
            name, equals, value = word[2:].partition("=")
            option = _long(name, variable)
            if option.takes_value and not equals:
                value = next(rest, "")
            elif equals and not option.takes_value:
                raise _refusal(variable, f"--{name}", "it takes no value")
            yield _judged(option, value, f"--{name}", variable)
        elif word.startswith("-") and word != "-":
            yield from _letters(word, rest, variable)
        else:
            raise ConfigurationError(
                f"{variable}: a word that is no option would be taken by pg_dump for a "
                f"database name: the controller names it ({_prefix(variable)}_POSTGRES_DB)"
            )


def _letters(word: str, rest: Iterator[str], variable: str) -> Iterator[Argument]:
    """Yield the arguments of the letters of ``word`` (``-xO``, ``-fout``, ``-f`` then a word)."""
    for at, letter in enumerate(word[1:], start=2):
        option = BY_LETTER.get(letter)
        if option is None:
            raise _refusal(variable, f"-{letter}", "it is not an option of pg_dump")
        if option.takes_value:
            yield _judged(option, word[at:] or next(rest, ""), f"-{letter}", variable)
            return
        yield _judged(option, "", f"-{letter}", variable)


def _long(name: str, variable: str) -> PgDumpOption:
    """Return the option ``--name`` stands for, by its name or a prefix of one option's names."""
    if name in BY_NAME:
        return BY_NAME[name]
    matches = {BY_NAME[full] for full in BY_NAME if name and full.startswith(name)}
    if len(matches) == 1:
        return matches.pop()
    if not matches:
        raise _refusal(variable, f"--{name}", "it is not an option of pg_dump")
    said = ", ".join(sorted(f"--{option.name}" for option in matches))
    raise _refusal(variable, f"--{name}", f"it is ambiguous ({said}): write it in full")


def _judged(option: PgDumpOption, value: str, shown: str, variable: str) -> Argument:
    """Return ``option`` with ``value`` as passed on, or raise why it is refused."""
    if option.refused is not None:
        why = option.refused.format(prefix=_prefix(variable))
        raise _refusal(variable, shown, why, option=option)
    if not option.takes_value:
        return Argument(f"--{option.name}", narrows=option.narrows)
    if not value:
        raise _refusal(variable, shown, "it needs a value", option=option)
    return Argument(f"--{option.name}={value}", narrows=option.narrows)


def _refusal(
    variable: str, shown: str, why: str, *, option: PgDumpOption | None = None
) -> ConfigurationError:
    """Return the one-line error refusing ``shown`` (``option``'s spelling in the variable)."""
    full = None if option is None else f"--{option.name}"
    named = shown if full is None or shown == full else f"{shown} (pg_dump's {full})"
    return ConfigurationError(f"{variable}: {named} is refused: {why}")


def _prefix(variable: str) -> str:
    """Return the service's prefix of ``<PREFIX>_DUMP_ARGS``, for the variables messages name."""
    return variable.removesuffix("_DUMP_ARGS")
