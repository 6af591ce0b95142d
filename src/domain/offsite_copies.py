"""A backup in the off-site store, judged by what a restore needs of it: its checksum
object, and its companions (the globals, the note of a partial backup) each with its
own, all agreeing with the SHA-256 recorded with each object."""

from __future__ import annotations

from collections.abc import Callable

import attrs

from pg_backup_manager.domain.names import BackupName, sha256sum_digest


@attrs.frozen(kw_only=True)
class OffsiteCopy:
    """A backup in the off-site store: its name, its size in bytes, whether its globals
    went with it, the SHA-256 the store holds for it (None: none recorded, or not asked
    for), and why the controller would not restore it (``problem``; None: it would).

    ``partial``: the note of what its backup left out went with it (a copy without one is
    whole, as are the copies made before notes went off-site); ``left_out``: the pg_dump
    arguments the note records, when they were read (only ``list --remote`` reads them;
    empty: not read, or unreadable)."""

    name: BackupName
    size: int
    has_globals: bool = False
    sha256: str | None = None
    problem: str | None = None
    partial: bool = False
    left_out: tuple[str, ...] = ()

    @classmethod
    def judged(
        cls,
        *,
        name: BackupName,
        size: int,
        sha256: str | None,
        checksum_line: str | None,
        globals_found: bool,
        globals_sha256: str | None = None,
        globals_line: str | None = None,
        note_found: bool = False,
        note_sha256: str | None = None,
        note_line: str | None = None,
        record_of: Callable[[str], str] | None = None,
    ) -> OffsiteCopy:
        """Return the copy an object store holds under ``name``, judged by what a restore
        needs, as a restore reads it (:func:`sha256sum_digest`): its checksum object
        (``checksum_line``: its text; None: there is none), a ``sha256sum`` line for the
        archive whose digest is the archive's recorded ``sha256``; and when there are
        globals (``globals_found``) or their checksum object (``globals_line``), both, the
        line naming the globals and agreeing with their recorded ``globals_sha256``; and
        the same of the note (``note_found``, ``note_line``, ``note_sha256``).
        The first missing or disagreeing piece is the copy's ``problem``; ``record_of``
        names, for people, where the store records an object's SHA-256 (its backend's
        words: S3's metadata, a directory's file)."""
        problem = _problem(str(name), sha256, checksum_line, what="the archive", of=record_of)
        if problem is None:
            problem = _companion(
                name.globals_name,
                globals_found,
                globals_sha256,
                globals_line,
                what="its globals",
                whose="its globals'",
                of=record_of,
            )
        if problem is None:
            problem = _companion(
                name.note_name,
                note_found,
                note_sha256,
                note_line,
                what="its note",
                whose="its note's",
                of=record_of,
            )
        return cls(
            name=name,
            size=size,
            has_globals=globals_found,
            sha256=sha256,
            problem=problem,
            partial=note_found,
        )

    @property
    def usable(self) -> bool:
        """Return whether the controller would restore this copy: only such copies count
        toward retention's newest and ``MIN_BACKUPS_KEPT``, and as off-site."""
        return self.problem is None


def _companion(
    file_name: str,
    found: bool,
    sha256: str | None,
    line: str | None,
    *,
    what: str,
    whose: str,
    of: Callable[[str], str] | None,
) -> str | None:
    """Return why the companion ``file_name`` of a copy off-site makes it unusable (None:
    it does not): either both it and its checksum object are there, agreeing, or neither."""
    if not found and line is None:
        return None
    if not found:
        return f"{whose} checksum object ({file_name}.sha256) is there but not {what} ({file_name})"
    if line is None:
        return f"no checksum object for {what} ({file_name}.sha256)"
    return _problem(file_name, sha256, line, what=what, of=of)


def _problem(
    file_name: str,
    sha256: str | None,
    line: str | None,
    *,
    what: str,
    of: Callable[[str], str] | None = None,
) -> str | None:
    """Return why ``file_name`` off-site could not be restored (None: it could): its
    checksum object (``line``) and the SHA-256 recorded with it (``sha256``) must agree."""
    sidecar = f"{file_name}.sha256"
    if line is None:
        return f"no checksum object ({sidecar})"
    if sha256 is None:
        return f"no SHA-256 recorded with {what}" + (f" ({of(file_name)})" if of else "")
    says = sha256sum_digest(line, file_name)
    if says is None:
        return f"its checksum object ({sidecar}) is not a sha256sum line for {file_name}"
    if says != sha256:
        return (
            f"its checksum object ({sidecar}) says {says[:16]}..., "
            f"the SHA-256 recorded with {what} is {sha256[:16]}..."
        )
    return None
