"""``OFFSITE_URL=file:///<absolute path>``: off-site copies in a directory (a NAS share
mounted into the container), checked strictly; a bad value is a ConfigurationError that
names OFFSITE_URL. Whether the directory exists and is writable is checked where it is
first used (:class:`~.bucket.FileBucket`), so that ``config`` still shows it."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

import attrs

from pg_backup_manager.domain.errors import ConfigurationError

_SHAPE = "OFFSITE_URL must look like file:///<absolute path> (e.g. file:///mnt/nas/backups)"
_BLANK_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f-\x9f]")


@attrs.frozen(kw_only=True)
class FileSettings:
    """The directory that holds the off-site copies (an absolute path, no ``/`` at its
    end but for the root itself)."""

    root: str

    @property
    def url(self) -> str:
        """Return ``file://<root>`` for messages."""
        return f"file://{self.root}"


def file_url(text: str) -> str:
    """Return the absolute path that ``file:///<path>`` (or ``file://localhost/<path>``)
    names, percent-escapes decoded.

    Raises:
        ConfigurationError: it is not such a URL: another host, a relative path, a
            query or a fragment, an empty, ``.`` or ``..`` segment, whitespace or a
            control character.
    """
    if _BLANK_OR_CONTROL.search(text):
        raise ConfigurationError(f"{_SHAPE}: it must not hold whitespace or control characters")
    try:
        parts = urlsplit(text)
    except ValueError:
        raise ConfigurationError(f"{_SHAPE}: it is not a URL") from None
    if parts.scheme != "file":
        raise ConfigurationError(f"{_SHAPE}: it must start with file://")
    if "?" in text or "#" in text:
        raise ConfigurationError(f"{_SHAPE}: it must not hold a query or a fragment (? or #)")
    if not text.startswith("file://"):
        raise ConfigurationError(f"{_SHAPE}: a relative path is not a place (use file:///...)")
    if parts.netloc not in {"", "localhost"}:
        raise ConfigurationError(
            f"{_SHAPE}: its host must be empty (file:///path) or localhost; mount a remote "
            "share into the container and name its mount point"
        )
    try:
        path = unquote(parts.path, errors="strict")
    except UnicodeDecodeError:
        raise ConfigurationError(f"{_SHAPE}: its %-escapes are not UTF-8") from None
    if not path.startswith("/"):
        raise ConfigurationError(f"{_SHAPE}: its path must be absolute")
    if _BLANK_OR_CONTROL.search(path.replace(" ", "")):
        raise ConfigurationError(f"{_SHAPE}: it must not hold control characters")
    trimmed = path.rstrip("/") or "/"
    segments = trimmed.split("/")[1:] if trimmed != "/" else []
    if any(segment in {"", ".", ".."} for segment in segments):
        raise ConfigurationError(f"{_SHAPE}: its path must not hold an empty, '.' or '..' segment")
    return trimmed
