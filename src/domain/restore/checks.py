"""Is this copy what was backed up? The checks a restore and a verify make of an archive
and of its globals against their recorded SHA-256."""

from __future__ import annotations

from pg_backup_manager.domain.backups.ports import ArchiveChecker
from pg_backup_manager.domain.errors import IntegrityError
from pg_backup_manager.domain.names import StoredArchive


def verify_archive(
    stored: StoredArchive, *, checker: ArchiveChecker, thorough: bool = True
) -> None:
    """Check that an archive matches its recorded checksum and reads to the end.

    With ``thorough`` false and a checksum to compare, only the checksum is
    checked (a restore reads the archive fully anyway, into a scratch
    database). An archive without a checksum (made before checksums existed)
    passes on the archive check alone.

    Raises:
        IntegrityError: it cannot be read, or its SHA-256 differs from the record.
    """
    if stored.checksum is None or thorough:
        actual = checker.check(stored.path)
    else:
        actual = checker.digest(stored.path)
    _compare(stored, actual)


def verify_checksum(stored: StoredArchive, *, checker: ArchiveChecker) -> None:
    """Check a file that is not an archive (the globals) against its recorded checksum.

    Raises:
        IntegrityError: it has no checksum, or its SHA-256 differs from the record.
    """
    if stored.checksum is None:
        raise IntegrityError(
            f"{stored.origin or stored.path} has no {_record(stored)}: nothing proves it unchanged"
        )
    _compare(stored, checker.digest(stored.path))


def _compare(stored: StoredArchive, actual: str) -> None:
    if stored.checksum is not None and actual != stored.checksum:
        raise IntegrityError(
            f"{stored.origin or stored.path} is corrupt: its SHA-256 is {actual[:12]}..., its "
            f"{_record(stored)} says {stored.checksum[:12]}...: do not trust it; pick another "
            f"backup ('{stored.listed_by}')"
        )


def _record(stored: StoredArchive) -> str:
    """Return what records the SHA-256 of ``stored``: off-site, a checksum object."""
    return "checksum file" if stored.origin is None else "checksum object"
