"""What an archive says about its database, as ``pg_restore --create`` would apply it.

``pg_dump`` keeps the database's own properties in four entries of the archive
(``DATABASE``, ``DATABASE PROPERTIES``, ``COMMENT - DATABASE``, ``ACL -
DATABASE``): encoding and locale, owner, connection limit, ``ALTER DATABASE ...
SET``, ``ALTER ROLE ... IN DATABASE ... SET``, comment, grants and revokes. They
name the source's database; here they are read by the SQL lexer of
:mod:`~pg_backup_manager.adapters.postgres.sql_lexer` and rebuilt token by token for
the psql variable ``:"a"``, so they can be given to the scratch database of a
restore before it takes the target's name.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pg_backup_manager.adapters.postgres.db_properties import CLEAR_COMMENT
from pg_backup_manager.adapters.postgres.sql_lexer import Token, statements
from pg_backup_manager.domain.errors import IntegrityError
from pg_backup_manager.domain.model import DatabaseProperties

# The entries of ``pg_restore --create --list`` that are about the database itself.
DATABASE_ENTRY = re.compile(
    r"\d+; \d+ \d+ (?:DATABASE|DATABASE PROPERTIES|COMMENT - DATABASE|ACL - DATABASE) .*"
)
# CREATE DATABASE options that describe the database's text; its tablespace
# belongs to the old server and its template is always template0.
_CREATE_OPTIONS = {
    "encoding",
    "locale_provider",
    "locale",
    "lc_collate",
    "lc_ctype",
    "icu_locale",
    "icu_rules",
    "builtin_locale",
}
# Punctuation a statement about a database may hold outside quotes: nothing psql
# would read as a variable (``:``) or a meta-command (``\\``).
_PUNCTUATION = set("=,.()-+")
_WORD_OR_NUMBER = re.compile(r"[^\W\d][\w$]*|[0-9][0-9.eE+-]*")
_TARGET = ':"a"'


def database_entries(listing: str) -> str:
    """Return the lines of ``pg_restore --create --list`` output about the database itself
    (a list for ``pg_restore -L``); empty when the archive has none."""
    return "".join(f"{line}\n" for line in listing.split("\n") if DATABASE_ENTRY.fullmatch(line))


def archived_properties(script: str, *, owners: bool, origin: str) -> DatabaseProperties | None:
    """Return the properties the statements of ``script`` give their database, for ``:"a"``.

    ``script`` is what ``pg_restore --create --schema-only -L <database_entries>``
    prints. None when it creates no database (an archive without the entries).
    Without ``owners`` (``--no-owner``, for a server that lacks the dump's
    roles) whatever names a role is left out: the owner, the settings of roles
    in the database, grants to roles; grants and revokes of ``PUBLIC`` stay,
    so the copy is never more open than the original.

    Raises:
        IntegrityError: a statement is cut short, names another database, or is
            not one of those ``pg_dump`` writes about a database.
    """
    name: str | None = None
    options = ""
    script_lines: list[str] = []
    for sql, tokens in statements(script, origin=origin):
        words = [t.text if not (t.quoted or t.literal) else "" for t in tokens]
        if words[:1] in (["set"], ["reset"], ["select"]):
            continue  # the session's settings, and SET SESSION AUTHORIZATION for a grantor
        if words[:2] == ["create", "database"] and name is None and len(tokens) > 2:
            name = tokens[2].text
            options = _create_options(tokens[3:], origin)
            continue
        if name is None:
            raise IntegrityError(f"{origin}: a statement about a database comes before it")
        kind = _kind(words)
        if kind is None:
            raise IntegrityError(
                f"{origin}: an unexpected statement about its database "
                f"({' '.join(w.upper() for w in words[:3] if w)} ...)"
            )
        if not owners and kind != "database" and not _only_public(words, kind):
            continue
        script_lines.append(_rebuilt(sql, tokens, name, origin) + ";")
    if name is None:
        return None
    # The scratch database's marker goes, whether or not the archive has a comment.
    script_lines.insert(0, CLEAR_COMMENT.strip())
    return DatabaseProperties(create_options=options, script="\n".join([*script_lines, ""]))


def _kind(words: Sequence[str]) -> str | None:
    """Return what the statement does: ``owner``, ``database`` (a property of its own),
    ``role setting``, ``privilege``; None for anything else."""
    if words[:2] == ["alter", "database"]:
        return "owner" if words[3:5] == ["owner", "to"] else "database"
    if words[:2] == ["comment", "on"] and words[2:3] == ["database"]:
        return "database"
    if words[:2] == ["alter", "role"] and words[3:5] == ["in", "database"]:
        return "role setting"
    if words[:1] in (["grant"], ["revoke"]) and "database" in words:
        return "privilege"
    return None


def _only_public(words: Sequence[str], kind: str) -> bool:
    """Return whether a grant or revoke is about PUBLIC alone."""
    if kind != "privilege":
        return False
    to = "to" if words[0] == "grant" else "from"
    return to in words and words[words.index(to) + 1 :] == ["public"]


def _create_options(tokens: Sequence[Token], origin: str) -> str:
    """Return ``CREATE DATABASE``'s encoding and locale options, rebuilt from ``tokens``."""
    options = []
    for index, token in enumerate(tokens):
        if not token.is_word(*_CREATE_OPTIONS) or index + 2 >= len(tokens):
            continue
        equals, value = tokens[index + 1], tokens[index + 2]
        if equals.text != "=" or value.quoted:
            continue
        if not value.literal and not re.fullmatch(r"[a-z_][a-z0-9_]*", value.text):
            raise IntegrityError(f"{origin}: an unexpected {token.text.upper()} of its database")
        shown = _quoted_literal(value.text) if value.literal else value.text
        options.append(f"{token.text.upper()} {shown}")
    return " ".join(options)


def _rebuilt(sql: str, tokens: Sequence[Token], name: str, origin: str) -> str:
    """Return the statement of ``tokens`` with its database named ``:"a"``.

    Every token is written anew (words and numbers as they were, identifiers
    and literals quoted again; an ``E'...'`` literal as it was, its escapes
    untouched), so nothing outside a quote can reach psql as a variable or a
    meta-command.
    """
    parts = []
    for index, token in enumerate(tokens):
        if index > 0 and tokens[index - 1].is_word("database") and not token.literal:
            if token.text != name:
                raise IntegrityError(f"{origin}: a statement names another database")
            parts.append(_TARGET)
        elif token.literal and sql[token.start] in "eE":
            parts.append(sql[token.start : token.end])
        elif token.literal:
            parts.append(_quoted_literal(token.text))
        elif token.quoted:
            parts.append('"' + token.text.replace('"', '""') + '"')
        elif _WORD_OR_NUMBER.fullmatch(token.text) or token.text in _PUNCTUATION:
            parts.append(token.text)
        else:
            raise IntegrityError(f"{origin}: an unexpected {token.text!r} in a statement")
    return " ".join(parts)


def _quoted_literal(text: str) -> str:
    """Return ``text`` as a standard SQL string literal."""
    return "'" + text.replace("'", "''") + "'"
