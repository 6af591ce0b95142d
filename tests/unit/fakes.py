"""Hand-written, in-memory stand-ins for every port; each records what it was asked."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import PurePath

import attrs

from pg_backup_manager.domain.errors import BackupNotFoundError, ControllerError, ToolError
from pg_backup_manager.domain.model import Backup, BackupName, Database, Layout
from pg_backup_manager.domain.ports import LockFile

LAYOUT = Layout(
    data_root=PurePath("/backup/data"),
    shared_root=PurePath("/backup/shared"),
    databases_root=PurePath("/databases"),
)


@attrs.define
class FakeClock:
    """A clock that only moves when slept on; records every nap."""

    current: datetime = datetime(2024, 7, 4, 9, 0, tzinfo=UTC)
    naps: list[float] = attrs.field(factory=list)

    def now(self) -> datetime:
        return self.current

    def sleep(self, seconds: float) -> None:
        self.naps.append(seconds)
        self.current += timedelta(seconds=seconds)


@attrs.define
class FakeBackupStore:
    """Backups as sizes in a dict, per database; ``actions`` lists what was done."""

    files: dict[str, dict[BackupName, int]] = attrs.field(factory=dict)
    shared: dict[str, BackupName] = attrs.field(factory=dict)
    prepared: list[tuple[str, bool]] = attrs.field(factory=list)
    actions: list[tuple[str, str, str]] = attrs.field(factory=list)
    layout: Layout = LAYOUT

    def add(self, identifier: str, *names: str | BackupName, size: int = 100) -> None:
        for name in names:
            parsed = name if isinstance(name, BackupName) else BackupName.parse(name)
            self.files.setdefault(identifier, {})[parsed] = size

    def names(self, identifier: str) -> list[str]:
        return [str(backup.name) for backup in self.backups(identifier)]

    def prepare(self, identifiers: Iterable[str], *, shared: bool) -> None:
        self.prepared.extend((identifier, shared) for identifier in identifiers)

    def backups(self, identifier: str) -> list[Backup]:
        found = self.files.get(identifier, {})
        return [Backup(name=name, size=size) for name, size in sorted(found.items(), reverse=True)]

    def write(
        self, identifier: str, name: BackupName, writer: Callable[[PurePath], None]
    ) -> Backup:
        if name in self.files.get(identifier, {}):
            raise ControllerError(f"backup {name} exists already")
        writer(self.layout.data_dir(identifier) / f".{name}.partial")
        self.add(identifier, name, size=1234)
        self.actions.append(("write", identifier, str(name)))
        return Backup(name=name, size=1234)

    def path_of(self, identifier: str, name: BackupName) -> PurePath:
        if name not in self.files.get(identifier, {}):
            raise BackupNotFoundError(f"no backup {name} of {identifier}")
        return self.layout.data_dir(identifier) / str(name)

    def delete(self, identifier: str, name: BackupName) -> None:
        self.files.get(identifier, {}).pop(name, None)
        self.actions.append(("delete", identifier, str(name)))

    def share(self, identifier: str, name: BackupName) -> PurePath:
        self.path_of(identifier, name)
        self.shared[identifier] = name
        self.actions.append(("share", identifier, str(name)))
        return self.layout.shared_dir(identifier) / "file.dump"

    def shared_archive(self, identifier: str) -> PurePath:
        if identifier not in self.shared:
            raise BackupNotFoundError(f"no shared archive of {identifier}")
        return self.layout.shared_dir(identifier) / "file.dump"


@attrs.define
class FakeDumper:
    """Records dumps; fails for the identifiers in ``failing``."""

    failing: set[str] = attrs.field(factory=set)
    dumped: list[tuple[str, PurePath]] = attrs.field(factory=list)

    def dump(self, database: Database, target: PurePath) -> None:
        if database.identifier in self.failing:
            raise ToolError(f"pg_dump of {database.identifier} failed (exit 1): refused")
        self.dumped.append((database.identifier, target))


@attrs.define
class FakeRestorer:
    """Records restores; fails when ``failing`` is set."""

    failing: bool = False
    restored: list[tuple[str, str, PurePath, bool]] = attrs.field(factory=list)

    def restore(self, database: Database, *, into: str, archive: PurePath, owners: bool) -> None:
        if self.failing:
            raise ToolError("pg_restore failed (exit 1): syntax error")
        self.restored.append((database.identifier, into, archive, owners))


@attrs.define
class FakeDatabaseServer:
    """A server's set of database names; ``actions`` lists each change in order."""

    databases: set[str] = attrs.field(factory=lambda: {"postgres", "template0", "template1"})
    actions: list[str] = attrs.field(factory=list)
    failing_renames: set[tuple[str, str]] = attrs.field(factory=set)

    def exists(self, database: Database, name: str) -> bool:
        return name in self.databases

    def create(self, database: Database, name: str) -> None:
        self.databases.add(name)
        self.actions.append(f"create {name}")

    def drop(self, database: Database, name: str) -> None:
        self.databases.discard(name)
        self.actions.append(f"drop {name}")

    def rename(self, database: Database, old: str, new: str) -> None:
        if (old, new) in self.failing_renames:
            raise ToolError(f"psql failed: cannot rename {old}")
        self.databases.remove(old)
        self.databases.add(new)
        self.actions.append(f"rename {old} {new}")


@attrs.define
class FakeWalResetter:
    """A data directory's lock and the resets asked of it."""

    lock: LockFile | None = None
    resets: list[tuple[PurePath, bool]] = attrs.field(factory=list)
    previews: list[PurePath] = attrs.field(factory=list)

    def server_lock(self, data_dir: PurePath) -> LockFile | None:
        return self.lock

    def preview(self, data_dir: PurePath) -> str:
        self.previews.append(data_dir)
        return "Values to be changed: ..."

    def reset(self, data_dir: PurePath, *, force: bool) -> str:
        self.resets.append((data_dir, force))
        return "Write-ahead log reset"


def database(identifier: str = "users", **overrides: object) -> Database:
    """Return a database config with test defaults."""
    fields: dict[str, object] = {
        "identifier": identifier,
        "host": identifier,
        "port": 5432,
        "user": "postgres",
        "dbname": "app",
        "password": "s3cret-password",
    }
    fields.update(overrides)
    return Database(**fields)  # type: ignore[arg-type]
