"""The statements of a ``pg_dumpall --globals-only`` file, read by a SQL lexer.

The file is split into statements by a lexer that knows PostgreSQL's quoting
(``'...'``, ``E'...'``, ``"..."``, ``$tag$...$tag$``, comments), never by a
pattern over the text; psql meta-commands (``\\connect``, ``\\restrict``) are
dropped. Each statement is classified by its leading words, and the roles it
names are taken from its tokens, quoted identifiers exactly, others folded to
lower case as the server folds them.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path, PurePath

import attrs

from pg_backup_manager.adapters.postgres.sql_lexer import Token, statements
from pg_backup_manager.domain.errors import ControllerError, IntegrityError
from pg_backup_manager.domain.restore.globals import GlobalStatement, Kind

# The settings pg_dumpall's header makes, kept ahead of the roles. Any other SET
# (SET SESSION AUTHORIZATION or SET ROLE before a grant made by another role) is
# left out with its RESET: the restoring user runs every statement itself.
_SESSION_SETTINGS = (
    ["client_encoding"],
    ["standard_conforming_strings"],
    ["default_transaction_read_only"],
)


@attrs.frozen
class GlobalsFileReader:
    """The GlobalsReader port: globals files on local disk, in UTF-8 (how they are dumped)."""

    def read(self, path: PurePath) -> list[GlobalStatement]:
        """Return the statements of the globals file at ``path``."""
        try:
            text = Path(path).read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise IntegrityError(f"{path} is not UTF-8 text: it is not a globals file") from None
        except OSError as error:
            raise ControllerError(f"cannot read {path}: {error.strerror}") from None
        return read_globals(text, origin=str(path))


def read_globals(text: str, *, origin: str) -> list[GlobalStatement]:
    """Return the statements of the globals file ``text`` (read from ``origin``).

    Raises:
        IntegrityError: the text ends inside a quote or a comment.
    """
    return [classify(sql, tokens) for sql, tokens in statements(text, origin=origin)]


def classify(sql: str, tokens: Sequence[Token]) -> GlobalStatement:
    """Return what the statement ``sql`` does and which roles it names."""
    # Keywords by position; a quoted identifier or a literal is never a keyword.
    words = [token.text if not (token.quoted or token.literal) else "" for token in tokens]

    def name_at(index: int) -> str | None:
        return tokens[index].text if index < len(tokens) and not tokens[index].literal else None

    head = words[:2]
    if head[:1] == ["set"] and words[1:2] in _SESSION_SETTINGS:
        return GlobalStatement(kind=Kind.SESSION, sql=sql)
    if head in (["create", "tablespace"], ["alter", "tablespace"]) or _on(words, "tablespace"):
        return GlobalStatement(kind=Kind.TABLESPACE, sql=sql)
    if head in (["create", "role"], ["create", "user"]):
        return GlobalStatement(kind=Kind.ROLE, sql=sql, role=name_at(2))
    if head in (["alter", "role"], ["alter", "user"]):
        role, rest = name_at(2), words[3:]
        if rest[:1] in (["set"], ["reset"]):
            return GlobalStatement(kind=Kind.ROLE_SETTING, sql=sql, role=role)
        if rest[:2] == ["in", "database"]:
            return GlobalStatement(kind=Kind.ROLE_SETTING, sql=sql, role=role, database=name_at(5))
        return GlobalStatement(
            kind=Kind.ROLE,
            sql=sql,
            role=role,
            login_without_password="login" in words[3:] and _password(tokens) is None,
            password=_password(tokens),
        )
    if head in (["comment", "on"], ["security", "label"]) and (at := _on(words, "role")):
        return GlobalStatement(kind=Kind.ROLE, sql=sql, role=name_at(at + 1))
    if head[:1] == ["grant"] and "to" in words:
        to = words.index("to")
        if _on(words[:to], "parameter"):
            return GlobalStatement(kind=Kind.PARAMETER_PRIVILEGE, sql=sql, role=name_at(to + 1))
        if to == 2:
            return _membership(sql, tokens, words, to)
    return GlobalStatement(kind=Kind.OTHER, sql=sql)


def _on(words: Sequence[str], kind: str) -> int:
    """Return the index of ``kind`` in ``... ON <kind> ...``, or 0 if there is none."""
    for index in range(1, len(words)):
        if words[index] == kind and words[index - 1] == "on":
            return index
    return 0


def _membership(sql: str, tokens: Sequence[Token], words: list[str], to: int) -> GlobalStatement:
    """``GRANT <role> TO <member> [WITH ...] [GRANTED BY <grantor>];``"""
    grantor, without = None, None
    for index in range(to + 2, len(words) - 2):
        if words[index : index + 2] == ["granted", "by"]:
            grantor = tokens[index + 2].text
            cut_from, cut_to = tokens[index].start, tokens[index + 2].end
            without = (sql[:cut_from].rstrip() + sql[cut_to:]).strip()
            break
    return GlobalStatement(
        kind=Kind.MEMBERSHIP,
        sql=sql,
        role=tokens[to + 1].text if to + 1 < len(tokens) else None,
        granted=tokens[1].text,
        grantor=grantor,
        sql_without_grantor=without,
    )


def _password(tokens: Sequence[Token]) -> str | None:
    """Return the literal after ``PASSWORD`` (a hash), if the statement sets one."""
    for here, after in itertools.pairwise(tokens):
        if here.is_word("password") and after.literal:
            return after.text
    return None
