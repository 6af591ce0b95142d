"""A lexer of PostgreSQL SQL text: statements and their tokens, knowing PostgreSQL's
quoting (``'...'``, ``E'...'``, ``"..."``, ``$tag$...$tag$``, comments); psql
meta-commands (``\\connect``, ``\\restrict``) are dropped. Words are folded to lower case
as the server folds them; quoted identifiers are kept exactly.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import attrs

from pg_backup_manager.domain.errors import IntegrityError

# Identifiers and keywords: a letter or _ (any script), then letters, digits, _ and $.
_WORD = re.compile(r"[^\W\d][\w$]*")
_DOLLAR_TAG = re.compile(r"\$(?:[^\W\d]\w*)?\$")
_NUMBER = re.compile(r"[0-9][0-9.eE+-]*")


@attrs.frozen
class Token:
    """A word (``quoted`` false, folded to lower case), a quoted identifier, a string
    literal (``literal``), or one character of punctuation; ``start``/``end`` index
    the statement's text."""

    text: str
    start: int
    end: int
    quoted: bool = False
    literal: bool = False

    def is_word(self, *words: str) -> bool:
        """Return whether this is an unquoted word among ``words`` (lower case)."""
        return not self.quoted and not self.literal and self.text in words


def statements(text: str, *, origin: str) -> Iterator[tuple[str, list[Token]]]:
    """Yield each SQL statement of ``text`` with its tokens (meta-commands dropped)."""
    position, length = 0, len(text)
    while position < length:
        position = _skip_blank(text, position, origin)
        if position >= length:
            return
        if text[position] == "\\":  # a psql meta-command runs to the end of its line
            end = text.find("\n", position)
            position = length if end < 0 else end + 1
            continue
        start, tokens = position, []
        while position < length and text[position] != ";":
            token = _token(text, position, origin)
            tokens.append(attrs.evolve(token, start=token.start - start, end=token.end - start))
            position = _skip_blank(text, token.end, origin)
        if position >= length:
            raise IntegrityError(f"{origin} ends inside a statement: the file is cut short")
        yield text[start : position + 1], tokens
        position += 1


def _skip_blank(text: str, position: int, origin: str) -> int:
    """Return the position after the white space and comments at ``position``."""
    length = len(text)
    while position < length:
        if text[position].isspace():
            position += 1
        elif text.startswith("--", position):
            end = text.find("\n", position)
            position = length if end < 0 else end + 1
        elif text.startswith("/*", position):
            position = _block_comment_end(text, position, origin)
        else:
            break
    return position


def _block_comment_end(text: str, position: int, origin: str) -> int:
    depth, position = 0, position
    while position < len(text):
        if text.startswith("/*", position):
            depth, position = depth + 1, position + 2
        elif text.startswith("*/", position):
            depth, position = depth - 1, position + 2
            if depth == 0:
                return position
        else:
            position += 1
    raise IntegrityError(f"{origin} ends inside a comment: the file is cut short")


def _token(text: str, position: int, origin: str) -> Token:
    char = text[position]
    if char in "eE" and text.startswith("'", position + 1):
        end, value = _escaped_string(text, position + 2, origin)
        return Token(value, position, end, literal=True)
    if char == "'":
        end, value = _quoted(text, position + 1, "'", origin)
        return Token(value, position, end, literal=True)
    if char == '"':
        end, value = _quoted(text, position + 1, '"', origin)
        return Token(value, position, end, quoted=True)
    if char == "$" and (tag := _DOLLAR_TAG.match(text, position)):
        close = text.find(tag.group(), tag.end())
        if close < 0:
            raise IntegrityError(f"{origin} ends inside a quoted string: the file is cut short")
        return Token(text[tag.end() : close], position, close + len(tag.group()), literal=True)
    for pattern in (_WORD, _NUMBER):
        if found := pattern.match(text, position):
            return Token(found.group().lower(), position, found.end())
    return Token(char, position, position + 1)


def _quoted(text: str, position: int, quote: str, origin: str) -> tuple[int, str]:
    """Return the end and the value of a quote opened before ``position`` (doubled
    quotes stand for one)."""
    parts, start = [], position
    while True:
        close = text.find(quote, start)
        if close < 0:
            raise IntegrityError(f"{origin} ends inside a quoted string: the file is cut short")
        parts.append(text[start:close])
        if text.startswith(quote, close + 1):
            parts.append(quote)
            start = close + 2
            continue
        return close + 1, "".join(parts)


def _escaped_string(text: str, position: int, origin: str) -> tuple[int, str]:
    """Return the end and the raw value of an ``E'...'`` string opened before ``position``."""
    start = position
    while position < len(text):
        char = text[position]
        if char == "\\" or (char == "'" and text.startswith("'", position + 1)):
            position += 2
        elif char == "'":
            return position + 1, text[start:position]
        else:
            position += 1
    raise IntegrityError(f"{origin} ends inside a quoted string: the file is cut short")
