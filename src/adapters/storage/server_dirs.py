"""The databases of a service with ``<SERVICE>_POSTGRES_DB=*`` as directories and files:
the StoredDatabases port (the directories under ``<root>/<service>/`` that are a database's
:func:`~pg_backup_manager.domain.database_names.segment`) and the ServerListings port
(``<data root>/<service>/databases.json``: what its last run found on the server)."""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime
from pathlib import Path, PurePath

import attrs

from pg_backup_manager.adapters.storage import files
from pg_backup_manager.domain.database_names import name_of
from pg_backup_manager.domain.errors import ControllerError
from pg_backup_manager.domain.every_database import ServerListing
from pg_backup_manager.domain.model import check_identifier

LISTING_NAME = "databases.json"
_MAX_LISTING_BYTES = 1 << 24  # a server of 100,000 databases of 63 bytes is 7 MiB
log = logging.getLogger(__name__)


@attrs.frozen(kw_only=True)
class LocalDatabaseDirectories:
    """The databases of each service with a directory under ``root``."""

    root: PurePath

    def database_names(self, service: str) -> list[str]:
        """Return the names of the databases with a directory (never a symbolic link) under
        ``<root>/<service>/``, sorted; other entries (the service's own files, ``pitr``,
        a directory made by hand) are no database."""
        directory = Path(self.root) / check_identifier(service)
        names = [
            name
            for entry in files.scan(directory)
            if (name := name_of(entry.name)) is not None and entry.is_dir(follow_symlinks=False)
        ]
        return sorted(names)


@attrs.frozen(kw_only=True)
class JsonServerListings:
    """The last listing of each service, ``<data root>/<service>/databases.json``:
    ``{"listed_at": "<RFC 3339>", "databases": [names]}``, replaced whole each time."""

    data_root: PurePath
    file_mode: int = 0o600

    def record(self, service: str, listing: ServerListing) -> None:
        """Replace the last listing of ``service``; a failure is logged, never raised."""
        path = self._path(service)
        temporary = path.with_name(f".{LISTING_NAME}.{os.getpid()}.new")
        document = {
            "listed_at": listing.listed_at.isoformat().replace("+00:00", "Z"),
            "databases": sorted(listing.names),
        }
        try:
            files.private_dir(Path(self.data_root), path.parent)
            temporary.unlink(missing_ok=True)
            files.create_empty(temporary, self.file_mode)
            temporary.write_text(json.dumps(document, ensure_ascii=False))
            files.fsync(temporary)
            os.replace(temporary, path)
        except (OSError, ControllerError) as error:
            temporary.unlink(missing_ok=True)
            log.warning(
                "%s: the list of its server's databases could not be recorded in %s (%s); "
                "status and health read the last one recorded",
                service,
                path,
                getattr(error, "strerror", None) or error,
            )

    def last(self, service: str) -> ServerListing | None:
        """Return the last listing of ``service``; None when there is none or it is not one
        (outside data: a hand edit, a cut write)."""
        path = self._path(service)
        if not files.is_regular_file(path):
            return None
        try:
            with path.open("rb") as file:
                found = json.loads(file.read(_MAX_LISTING_BYTES))
            names, at = found["databases"], datetime.fromisoformat(found["listed_at"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            return None
        if at.tzinfo is None:
            return None
        return ServerListing(names=frozenset(names), listed_at=at.astimezone(UTC))

    def _path(self, service: str) -> Path:
        return Path(self.data_root) / check_identifier(service) / LISTING_NAME
