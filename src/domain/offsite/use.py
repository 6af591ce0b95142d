"""Is off-site on, and is its retention on: decided once, here, for every use case."""

from __future__ import annotations

import enum
from typing import Protocol


class _Configured(Protocol):
    """What the decision reads of the off-site settings."""

    @property
    def retention(self) -> bool:
        """Return whether OFFSITE_RETENTION is on."""


class OffsiteUse(enum.Enum):
    """What the controller does off-site: nothing (no ``OFFSITE_URL``), copy backups there,
    or copy them and apply retention to the copies (``OFFSITE_RETENTION``, the default)."""

    OFF = "off"
    COPY = "copy"
    COPY_AND_PRUNE = "copy_and_prune"

    @classmethod
    def of(cls, settings: _Configured | None) -> OffsiteUse:
        """Return the use that the off-site settings make (None: ``OFFSITE_URL`` unset)."""
        if settings is None:
            return cls.OFF
        return cls.COPY_AND_PRUNE if settings.retention else cls.COPY

    @property
    def on(self) -> bool:
        """Return whether backups are copied off-site."""
        return self is not OffsiteUse.OFF

    @property
    def retention(self) -> bool:
        """Return whether retention applies to the off-site copies."""
        return self is OffsiteUse.COPY_AND_PRUNE
