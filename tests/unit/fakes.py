"""Hand-written, in-memory stand-ins for every port; each records what it was asked."""

from __future__ import annotations

import contextlib
import enum
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import PurePath

import attrs

from pg_backup_manager.adapters.cron import DEFAULT_SCHEDULE, CronSchedule
from pg_backup_manager.domain import database_names
from pg_backup_manager.domain.backups.backup_run import BackupRun
from pg_backup_manager.domain.backups.dumping import TakeBackups
from pg_backup_manager.domain.backups.hooks import Attempt, HookError
from pg_backup_manager.domain.backups.offsite_steps import CopyOffsite, NoOffsite
from pg_backup_manager.domain.backups.policy import DEFAULT_POLICY, RetentionPolicy
from pg_backup_manager.domain.backups.pruning import Prune
from pg_backup_manager.domain.backups.server_runs import ExpandRun
from pg_backup_manager.domain.backups.timetable import Schedules
from pg_backup_manager.domain.backups.writing import BackupWriter
from pg_backup_manager.domain.errors import (
    BackupNotFoundError,
    BusyError,
    ConfigurationError,
    ControllerError,
    IntegrityError,
    ReplicationRefusedError,
    ToolError,
)
from pg_backup_manager.domain.every_database import ServerListing
from pg_backup_manager.domain.history import BACKUP_OPERATIONS, Outcome, RunRecord
from pg_backup_manager.domain.model import (
    ArchiveTable,
    Database,
    DatabaseProperties,
    Layout,
    TableName,
)
from pg_backup_manager.domain.monitoring.health import SchedulerState
from pg_backup_manager.domain.monitoring.status import Status
from pg_backup_manager.domain.monitoring.telling import Journal, Tell
from pg_backup_manager.domain.names import Backup, BackupName, MadeBy, StoredArchive
from pg_backup_manager.domain.offsite.from_offsite import FromOffsite
from pg_backup_manager.domain.offsite.pruning import PruneOffsite
from pg_backup_manager.domain.offsite.sync import Sync
from pg_backup_manager.domain.offsite_copies import OffsiteCopy
from pg_backup_manager.domain.pitr.model import (
    BackupFacts,
    BaseBackup,
    CaughtUp,
    DamagedStream,
    ReceiverState,
    Segment,
    ServerIdentity,
    SlotState,
    Stream,
    StreamContents,
)
from pg_backup_manager.domain.pitr.naming import utc_name
from pg_backup_manager.domain.ports import BackupReader, Schedule
from pg_backup_manager.domain.restore.globals import GlobalStatement, Kind
from pg_backup_manager.domain.restore.restoring import Restore
from pg_backup_manager.domain.restore.scratch import TemporaryDatabase
from pg_backup_manager.domain.restore.verifying import Verify
from pg_backup_manager.domain.verification.model import VerifySchedule
from pg_backup_manager.domain.verification.verifying import ScheduledVerify
from pg_backup_manager.domain.wal.ports import LockFile
from pg_backup_manager.domain.wal.reset import ResetWal

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
class FakeDraft:
    """A backup being written into a FakeStore."""

    store: FakeStore
    identifier: str
    name: BackupName
    path: PurePath

    @property
    def globals_path(self) -> PurePath:
        return self.path.with_name(self.name.globals_name)

    def commit(
        self, checksum: str, globals_checksum: str, *, left_out: tuple[str, ...] = ()
    ) -> Backup:
        if self.name in self.store.files.get(self.identifier, {}):
            raise ControllerError(f"backup {self.name} exists already")
        self.store.add(self.identifier, self.name, size=1234)
        self.store.checksums[self.identifier, self.name] = checksum
        self.store.globals_checksums[self.identifier, self.name] = globals_checksum
        if left_out:
            self.store.left_out[self.identifier, self.name] = left_out
        self.store.actions.append(("write", self.identifier, str(self.name)))
        return Backup(
            name=self.name, size=1234, has_globals=True, partial=bool(left_out), left_out=left_out
        )


@attrs.define
class FakeStore:
    """Backups as sizes in a dict, per database: the catalog, staging, shared copies and
    directories of the local store; ``actions`` lists what was done."""

    files: dict[str, dict[BackupName, int]] = attrs.field(factory=dict)
    checksums: dict[tuple[str, BackupName], str] = attrs.field(factory=dict)
    globals_checksums: dict[tuple[str, BackupName], str] = attrs.field(factory=dict)
    left_out: dict[tuple[str, BackupName], tuple[str, ...]] = attrs.field(factory=dict)
    shared: dict[str, BackupName] = attrs.field(factory=dict)
    prepared: list[tuple[str, bool]] = attrs.field(factory=list)
    unreadable_checksums: set[str] = attrs.field(factory=set)
    actions: list[tuple[str, str, str]] = attrs.field(factory=list)
    layout: Layout = LAYOUT
    checksums_read: list[tuple[str, str]] = attrs.field(factory=list)  # by ``archive``

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
        return [
            Backup(
                name=name,
                size=size,
                has_globals=(identifier, name) in self.globals_checksums,
                partial=(identifier, name) in self.left_out,
                left_out=self.left_out.get((identifier, name), ()),
            )
            for name, size in sorted(found.items(), reverse=True)
        ]

    def backup_names(self, identifier: str) -> list[BackupName]:
        return [backup.name for backup in self.backups(identifier)]

    @contextlib.contextmanager
    def begin(self, identifier: str, name: BackupName) -> Iterator[FakeDraft]:
        if name in self.files.get(identifier, {}):
            raise ControllerError(f"backup {name} exists already")
        path = self.layout.backup_dir(identifier) / f".{name}.partial" / str(name)
        yield FakeDraft(store=self, identifier=identifier, name=name, path=path)

    def archive(self, identifier: str, name: BackupName) -> StoredArchive:
        if name not in self.files.get(identifier, {}):
            raise BackupNotFoundError(f"no backup {name} of {identifier}")
        self.checksums_read.append((identifier, str(name)))
        if str(name) in self.unreadable_checksums:
            raise ControllerError(f"cannot read {name}.sha256: Permission denied")
        return StoredArchive(
            path=self.layout.backup_dir(identifier) / str(name),
            checksum=self.checksums.get((identifier, name)),
        )

    def globals(self, identifier: str, name: BackupName) -> StoredArchive:
        if (identifier, name) not in self.globals_checksums:
            raise BackupNotFoundError(f"backup {name} of {identifier} has no globals file")
        return StoredArchive(
            path=self.layout.backup_dir(identifier) / name.globals_name,
            checksum=self.globals_checksums[identifier, name],
        )

    def note(self, identifier: str, name: BackupName) -> StoredArchive | None:
        if (identifier, name) not in self.left_out:
            return None
        return StoredArchive(
            path=self.layout.backup_dir(identifier) / name.note_name, checksum=NOTE_SHA256
        )

    def delete(self, identifier: str, name: BackupName) -> None:
        self.files.get(identifier, {}).pop(name, None)
        self.checksums.pop((identifier, name), None)
        self.globals_checksums.pop((identifier, name), None)
        self.left_out.pop((identifier, name), None)
        self.actions.append(("delete", identifier, str(name)))

    @property
    def shared_copies(self) -> FakeSharedCopies:
        return FakeSharedCopies(store=self)

    def database_names(self, service: str) -> list[str]:
        """The databases of ``service`` with a directory: those with backups, or emptied."""
        return sorted(
            name
            for identifier in self.files
            if (name := database_names.split(identifier)[1]) is not None
            and database_names.split(identifier)[0] == service
        )

    @contextlib.contextmanager
    def run_file(self, service: str) -> Iterator[PurePath]:
        path = self.layout.backup_dir(service) / ".globals.sql.partial" / "globals.sql"
        self.actions.append(("globals of run", service, str(path)))
        yield path
        self.actions.append(("globals of run removed", service, str(path)))

    def copy(self, source: PurePath, target: PurePath) -> None:
        self.actions.append(("copy globals", str(source), str(target)))


@attrs.frozen
class FakeSharedCopies:
    """The shared copies of a FakeStore's backups."""

    store: FakeStore

    def share(self, identifier: str, name: BackupName) -> PurePath:
        self.store.archive(identifier, name)
        self.store.shared[identifier] = name
        self.store.actions.append(("share", identifier, str(name)))
        return self.store.layout.shared_dir(identifier) / "file.dump"

    def archive(self, identifier: str) -> StoredArchive:
        if identifier not in self.store.shared:
            raise BackupNotFoundError(f"no shared archive of {identifier}")
        return StoredArchive(
            path=self.store.layout.shared_dir(identifier) / "file.dump",
            checksum=self.store.checksums.get((identifier, self.store.shared[identifier])),
        )

    def left_out(self, identifier: str) -> tuple[str, ...] | None:
        name = self.store.shared.get(identifier)
        return None if name is None else self.store.left_out.get((identifier, name))

    def globals(self, identifier: str) -> StoredArchive:
        name = self.store.shared.get(identifier)
        if name is None or (identifier, name) not in self.store.globals_checksums:
            raise BackupNotFoundError(f"no shared globals of {identifier}")
        return StoredArchive(
            path=self.store.layout.shared_dir(identifier) / "file.globals.sql",
            checksum=self.store.globals_checksums[identifier, name],
        )


GOOD_SHA256 = "a" * 64
NOTE_SHA256 = "b" * 64  # what a FakeStore's note of a partial backup hashes to


@attrs.define
class FakeArchiveChecker:
    """Every archive reads fine and hashes to GOOD_SHA256, except those it is told of."""

    unreadable: set[str] = attrs.field(factory=set)
    hashes: dict[str, str] = attrs.field(factory=dict)
    rows_in_archive: dict[str, int] = attrs.field(factory=lambda: {"public t postgres": 3})
    checked: list[PurePath] = attrs.field(factory=list)

    def check(self, archive: PurePath) -> str:
        self.checked.append(archive)
        if archive.name in self.unreadable:
            raise IntegrityError(f"{archive} is damaged: pg_restore cannot read it")
        return self.hashes.get(archive.name, GOOD_SHA256)

    def digest(self, archive: PurePath) -> str:
        self.checked.append(archive)
        return self.hashes.get(archive.name, GOOD_SHA256)

    def made_by(self, archive: PurePath) -> MadeBy:
        return MadeBy(pg_dump="17.7", server="15.14")

    def row_counts(self, archive: PurePath) -> list[ArchiveTable]:
        return [
            ArchiveTable(label=label, rows=rows) for label, rows in self.rows_in_archive.items()
        ]


@attrs.define
class FakeLocks:
    """Locks that are free unless an identifier is ``busy``; records each hold."""

    busy: set[str] = attrs.field(factory=set)
    busy_after_first: set[str] = attrs.field(factory=set)
    held: list[str] = attrs.field(factory=list)
    holding: set[str] = attrs.field(factory=set)

    @contextlib.contextmanager
    def hold(self, identifier: str, *, create: bool = False) -> Iterator[None]:
        taken_before = identifier in self.busy_after_first and identifier in self.held
        if identifier in self.busy or identifier in self.holding or taken_before:
            raise BusyError(f"{identifier} is busy")
        self.held.append(identifier)
        self.holding.add(identifier)
        try:
            yield
        finally:
            self.holding.discard(identifier)


@attrs.define
class FakeHooks:
    """Records each command run around a backup, as ("before", identifier, lock held) or
    ("after", identifier, lock held, attempt); fails those of the identifiers in
    ``failing_before`` and ``failing_after``."""

    locks: FakeLocks
    failing_before: set[str] = attrs.field(factory=set)
    failing_after: set[str] = attrs.field(factory=set)
    ran: list[tuple[object, ...]] = attrs.field(factory=list)

    def before(self, database: Database) -> None:
        identifier = database.identifier
        self.ran.append(("before", identifier, identifier in self.locks.holding))
        if identifier in self.failing_before:
            raise HookError(f"PRE_BACKUP_COMMAND (/hooks/pre) failed (exit 3): {identifier} busy")

    def after(self, database: Database, attempt: Attempt) -> None:
        identifier = database.identifier
        self.ran.append(("after", identifier, identifier in self.locks.holding, attempt))
        if identifier in self.failing_after:
            raise HookError("POST_BACKUP_COMMAND (/hooks/post) failed (exit 1): no NAS")


@attrs.define
class FakeDumper:
    """Records dumps; fails for the identifiers in ``failing``."""

    failing: set[str] = attrs.field(factory=set)
    dumped: list[tuple[str, PurePath]] = attrs.field(factory=list)
    # The pg_dump arguments each dump was given besides the controller's own, in order.
    arguments: list[tuple[str, ...]] = attrs.field(factory=list)
    globals_dumped: list[tuple[str, PurePath]] = attrs.field(factory=list)
    failing_globals: bool = False

    def dump_globals(self, database: Database, target: PurePath) -> None:
        if self.failing_globals:
            raise ToolError(f"pg_dumpall of {database.identifier} failed (exit 1): refused")
        self.globals_dumped.append((database.identifier, target))

    def dump(self, database: Database, target: PurePath) -> None:
        if database.identifier in self.failing or "*" in self.failing:
            raise ToolError(f"pg_dump of {database.identifier} failed (exit 1): refused")
        self.dumped.append((database.identifier, target))
        self.arguments.append(database.dump_options.arguments)


@attrs.define
class FakeRestorer:
    """Records restores; fails when ``failing`` is set."""

    failing: bool = False
    restored: list[tuple[str, str, PurePath, bool]] = attrs.field(factory=list)
    on_restore: Callable[[], object] = lambda: None
    without_properties: set[str] = attrs.field(factory=set)

    def restore(self, database: Database, *, into: str, archive: PurePath, owners: bool) -> None:
        self.on_restore()
        if self.failing:
            raise ToolError("pg_restore failed (exit 1): syntax error")
        self.restored.append((database.identifier, into, archive, owners))

    def archived_properties(self, archive: PurePath, *, owners: bool) -> DatabaseProperties | None:
        if archive.name in self.without_properties:
            return None
        script = f"PROPERTIES IN {archive.name}" + ("" if owners else " WITHOUT OWNERS")
        return DatabaseProperties(create_options=f"LIKE {archive.name}", script=script)


@attrs.define
class FakeServer:
    """A server's databases, their comments, properties and rows (the ServerDatabases,
    PropertyKeeper and RowCounter ports); ``actions`` lists each change in order."""

    databases: set[str] = attrs.field(factory=lambda: {"postgres", "template0", "template1"})
    comments: dict[str, str] = attrs.field(factory=dict)
    actions: list[str] = attrs.field(factory=list)
    failing_renames: set[tuple[str, str]] = attrs.field(factory=set)
    failing_creates: bool = False
    rows: dict[TableName, int] = attrs.field(
        factory=lambda: {TableName(schema="public", table="t"): 3}
    )
    failing_apply: bool = False
    roles: set[str] = attrs.field(factory=lambda: {"postgres"})
    failing_roles: bool = False

    def cluster_names(self, database: Database) -> tuple[set[str], set[str]]:
        return set(self.roles), set(self.databases)

    def create_roles(
        self, database: Database, statements: Sequence[str], *, secrets: Sequence[str] = ()
    ) -> None:
        if self.failing_roles:
            raise ToolError("psql failed: permission denied to create role")
        self.actions.append("create roles: " + " ".join(statements))

    def exists(self, database: Database, name: str) -> bool:
        return name in self.databases

    def properties(self, database: Database, name: str) -> DatabaseProperties | None:
        if name not in self.databases:
            return None
        return DatabaseProperties(create_options=f"LIKE {name}", script=f"PROPERTIES OF {name}")

    def create(
        self,
        database: Database,
        name: str,
        *,
        like: DatabaseProperties | None = None,
        comment: str | None = None,
    ) -> None:
        if self.failing_creates:
            raise ToolError("psql failed: could not connect to server")
        self.databases.add(name)
        if comment is not None:
            self.comments[name] = comment
        self.actions.append(f"create {name}" + (f" {like.create_options}" if like else ""))

    def apply(self, database: Database, name: str, properties: DatabaseProperties | None) -> None:
        if self.failing_apply:
            raise ToolError("psql failed: must be owner of database")
        self.comments.pop(name, None)
        self.actions.append(f"apply {properties.script if properties else 'nothing'} to {name}")

    def row_counts(self, database: Database, name: str) -> dict[TableName, int]:
        return dict(self.rows)

    def temporary_databases(
        self, database: Database, *, prefixes: Iterable[str]
    ) -> list[TemporaryDatabase]:
        starts = tuple(prefixes)
        return [
            TemporaryDatabase(name=name, comment=self.comments.get(name))
            for name in sorted(self.databases)
            if name.startswith(starts)
        ]

    def drop(self, database: Database, name: str) -> None:
        self.databases.discard(name)
        self.comments.pop(name, None)
        self.actions.append(f"drop {name}")

    def rename(self, database: Database, old: str, new: str) -> None:
        if (old, new) in self.failing_renames:
            raise ToolError(f"psql failed: cannot rename {old}")
        self.databases.remove(old)
        self.databases.add(new)
        if old in self.comments:
            self.comments[new] = self.comments.pop(old)
        self.actions.append(f"rename {old} {new}")


def role(name: str, sql: str | None = None) -> GlobalStatement:
    """Return the statement that defines role ``name``."""
    return GlobalStatement(kind=Kind.ROLE, role=name, sql=sql or f"CREATE ROLE {name};")


@attrs.define
class FakeGlobalsReader:
    """Every globals file holds ``statements``; records what it read."""

    statements: list[GlobalStatement] = attrs.field(
        factory=lambda: [role("postgres"), role("app_owner")]
    )
    read_paths: list[PurePath] = attrs.field(factory=list)

    def read(self, path: PurePath) -> list[GlobalStatement]:
        self.read_paths.append(path)
        return list(self.statements)


@attrs.define
class FakeWalResetter:
    """A data directory's lock and the resets asked of it."""

    lock: LockFile | None = None
    resets: list[tuple[PurePath, bool]] = attrs.field(factory=list)
    previews: list[PurePath] = attrs.field(factory=list)
    preserved: list[PurePath] = attrs.field(factory=list)

    def server_lock(self, data_dir: PurePath) -> LockFile | None:
        return self.lock

    def preview(self, data_dir: PurePath) -> str:
        self.previews.append(data_dir)
        return "Values to be changed: ..."

    def preserve(self, data_dir: PurePath, *, into: PurePath) -> PurePath:
        self.preserved.append(into)
        return into

    def reset(self, data_dir: PurePath, *, force: bool) -> str:
        self.resets.append((data_dir, force))
        return "Write-ahead log reset"


@attrs.define
class FakeServers:
    """The databases each service's server has now (the DatabaseLister port), and the last
    listing recorded of each (ServerListings); servers in ``unreachable`` cannot be asked."""

    has: dict[str, list[str]] = attrs.field(factory=dict)
    unreachable: set[str] = attrs.field(factory=set)
    asked: list[str] = attrs.field(factory=list)
    recorded: dict[str, ServerListing] = attrs.field(factory=dict)
    # Databases the server has but never lists, and why ("template", "no connections").
    not_listed: dict[str, str] = attrs.field(factory=dict)

    def database_names(self, database: Database) -> list[str]:
        self.asked.append(database.identifier)
        if database.identifier in self.unreachable:
            raise ToolError(f"psql on {database.identifier} failed: connection refused")
        return list(self.has.get(database.identifier, []))

    def unlisted(self, database: Database, name: str) -> str | None:
        return self.not_listed.get(name)

    def record(self, service: str, listing: ServerListing) -> None:
        self.recorded[service] = listing

    def last(self, service: str) -> ServerListing | None:
        return self.recorded.get(service)


def server(identifier: str = "main", **overrides: object) -> Database:
    """Return a service that backs up every database of its server."""
    fields: dict[str, object] = {
        "dbname": "postgres",
        "every_database": True,
        "database_variable": f"{identifier.upper()}_POSTGRES_DB",
        "excluded_variable": f"{identifier.upper()}_EXCLUDE_DATABASES",
    }
    return database(identifier, **(fields | overrides))


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


@attrs.define
class FakeHeartbeat:
    """Counts beats and busy spells; ``last`` is the time of the last beat (None: never);
    ``states`` are what the scheduler recorded doing, in order."""

    clock: FakeClock = attrs.field(factory=FakeClock)
    beats: int = 0
    busy: int = 0
    last: datetime | None = None
    start: datetime | None = None
    recorded: SchedulerState | None = None
    states: list[SchedulerState] = attrs.field(factory=list)

    def started(self, at: datetime) -> None:
        self.start = at

    def started_at(self) -> datetime | None:
        return self.start

    def beat(self) -> None:
        self.beats += 1
        self.last = self.clock.now()

    @contextlib.contextmanager
    def while_busy(self, *, since: datetime, until: datetime) -> Iterator[None]:
        self.busy += 1
        self.recorded = SchedulerState(busy_since=since, busy_until=until)
        self.states.append(self.recorded)
        self.beat()
        yield
        self.recorded = None
        self.beat()

    def waiting(self, due: datetime) -> None:
        self.recorded = SchedulerState(due_at=due)
        self.states.append(self.recorded)
        self.beat()

    def state(self) -> SchedulerState | None:
        return self.recorded

    def age(self) -> float:
        if self.last is None:
            raise ControllerError("no heartbeat: 'controller start' is not running")
        return (self.clock.now() - self.last).total_seconds()


@attrs.define
class FakeRunLog:
    """Run histories in memory, oldest first."""

    kept: dict[str, list[RunRecord]] = attrs.field(factory=dict)
    unreadable: dict[str, int] = attrs.field(factory=dict)  # lines a test says are bad
    problems: dict[str, str] = attrs.field(factory=dict)  # histories a test says are unreadable

    def record(self, identifier: str, record: RunRecord) -> None:
        self.kept.setdefault(identifier, []).append(record)

    def records(self, identifier: str) -> list[RunRecord]:
        return list(self.kept.get(identifier, []))[-1000:]

    def totals(self, identifier: str) -> dict[Outcome, int]:
        runs = self.kept.get(identifier, [])
        outcomes = [r.outcome for r in runs if r.operation in BACKUP_OPERATIONS]
        return {outcome: outcomes.count(outcome) for outcome in Outcome}

    def unreadable_lines(self, identifier: str) -> int:
        return self.unreadable.get(identifier, 0)

    def problem(self, identifier: str) -> str | None:
        return self.problems.get(identifier)

    def read_once(self) -> FakeRunLog:
        return self


@attrs.define
class FakeNotifier:
    """Keeps every record it is told of, as (identifier, record), in order; in
    ``resolving`` those told as resolving a failure."""

    told: list[tuple[str, RunRecord]] = attrs.field(factory=list)
    resolving: list[tuple[str, RunRecord]] = attrs.field(factory=list)

    def notify(self, identifier: str, record: RunRecord, *, resolves: bool = False) -> None:
        self.told.append((identifier, record))
        if resolves:
            self.resolving.append((identifier, record))


@attrs.define
class FakePings:
    """Keeps the pings of each run: ("start", identifiers) and ("end", identifiers, errors)."""

    pinged: list[tuple[object, ...]] = attrs.field(factory=list)

    def started(self, identifiers: Iterable[str]) -> None:
        self.pinged.append(("start", tuple(identifiers)))

    def finished(self, identifiers: Iterable[str], errors: Mapping[str, str]) -> None:
        self.pinged.append(("end", tuple(identifiers), dict(errors)))


class Companion(enum.Enum):
    """What a hand in the bucket can do to a copy's companions (see FakeOffsiteStore.lose)."""

    CHECKSUM = "the archive's checksum object deleted"
    WRONG_CHECKSUM = "the archive's checksum object replaced by another digest"
    MISNAMED_CHECKSUM = "the archive's checksum object replaced by its digest for another file"
    GLOBALS = "the globals deleted"
    OTHER_GLOBALS = "the globals replaced by other content (no SHA-256 recorded)"
    GLOBALS_CHECKSUM = "the globals' checksum object deleted"
    WRONG_GLOBALS_CHECKSUM = "the globals' checksum object replaced by another digest"
    NOTE = "the note of what a partial backup left out deleted"
    NOTE_CHECKSUM = "the note's checksum object deleted"


# What a hand put over an object: an upload finds other content there and never replaces it.
_REPLACED = {
    Companion.WRONG_CHECKSUM,
    Companion.MISNAMED_CHECKSUM,
    Companion.OTHER_GLOBALS,
    Companion.WRONG_GLOBALS_CHECKSUM,
}
_REPLACED_GLOBALS = {Companion.OTHER_GLOBALS, Companion.WRONG_GLOBALS_CHECKSUM}


@attrs.define
class FakeOffsiteStore:
    """Off-site copies in a dict, per database; fails every upload after ``fail_after``
    uploads (None: never). ``lost`` holds the companions of a copy that went missing
    off-site (``plant`` and ``lose`` do to it what a hand in the bucket would);
    ``left_out`` what the notes of partial copies say, as ``list --remote`` reads them."""

    copied: dict[str, dict[BackupName, OffsiteCopy]] = attrs.field(factory=dict)
    lost: dict[tuple[str, BackupName], set[Companion]] = attrs.field(factory=dict)
    globals_sha256: dict[tuple[str, BackupName], str] = attrs.field(factory=dict)
    # What the notes of partial copies say (a fake cannot read the uploaded file).
    left_out: dict[tuple[str, BackupName], tuple[str, ...]] = attrs.field(factory=dict)
    fail_after: int | None = None
    unreachable: bool = False
    actions: list[tuple[str, str, str]] = attrs.field(factory=list)
    # When given, each upload records whether its database's lock was held.
    locks: FakeLocks | None = None
    locked_uploads: list[bool] = attrs.field(factory=list)

    def location(self, identifier: str) -> str:
        return f"s3://bucket/prefix/{identifier}/"

    def database_names(self, service: str) -> list[str]:
        """The databases of ``service`` with copies of their own (or once had)."""
        found = (database_names.split(identifier) for identifier in self.copied)
        return sorted(name for owner, name in found if owner == service and name is not None)

    def plant(self, identifier: str, name: BackupName, *, size: int) -> None:
        """Put ``size`` bytes under backup ``name`` as a hand copy would: no SHA-256
        recorded, no checksum object, no globals."""
        self.copied.setdefault(identifier, {})[name] = OffsiteCopy(name=name, size=size)
        self.lost[identifier, name] = {Companion.CHECKSUM}

    def lose(self, identifier: str, name: BackupName, *companions: Companion) -> None:
        """Delete or replace ``companions`` of copy ``name`` by hand."""
        self.lost.setdefault((identifier, name), set()).update(companions)

    def copies(self, identifier: str) -> list[OffsiteCopy]:
        if self.unreachable:
            raise ControllerError("off-site store unreachable")
        found = [
            self._judged(identifier, copy) for copy in self.copied.get(identifier, {}).values()
        ]
        return sorted(found, key=lambda c: c.name, reverse=True)

    def _judged(self, identifier: str, copy: OffsiteCopy) -> OffsiteCopy:
        """Return ``copy`` as the S3 store lists it, once its ``lost`` companions are gone
        or replaced."""
        lost = self.lost.get((identifier, copy.name), set())
        line: str | None = f"{copy.sha256}  {copy.name}\n"
        if Companion.CHECKSUM in lost:
            line = None
        elif Companion.WRONG_CHECKSUM in lost:
            line = f"{'0' * 64}  {copy.name}\n"
        elif Companion.MISNAMED_CHECKSUM in lost:
            line = f"{copy.sha256}  other_file.dump\n"
        # Globals put in ``copied`` by hand are taken for the archive's (as FakeDownloads does).
        globals_sha256 = self.globals_sha256.get((identifier, copy.name), copy.sha256)
        globals_line = None
        if copy.has_globals and Companion.GLOBALS_CHECKSUM not in lost:
            globals_line = f"{globals_sha256}  {copy.name.globals_name}\n"
            if Companion.WRONG_GLOBALS_CHECKSUM in lost:
                globals_line = f"{'e' * 64}  {copy.name.globals_name}\n"
        noted = copy.partial and Companion.NOTE_CHECKSUM not in lost
        return OffsiteCopy.judged(
            name=copy.name,
            size=copy.size,
            sha256=copy.sha256,
            checksum_line=line,
            globals_found=copy.has_globals and Companion.GLOBALS not in lost,
            globals_sha256=None if Companion.OTHER_GLOBALS in lost else globals_sha256,
            globals_line=globals_line,
            note_found=copy.partial and Companion.NOTE not in lost,
            note_sha256=NOTE_SHA256,
            note_line=f"{NOTE_SHA256}  {copy.name.note_name}\n" if noted else None,
        )

    def with_left_out(self, identifier: str, copies: Sequence[OffsiteCopy]) -> list[OffsiteCopy]:
        return [
            attrs.evolve(copy, left_out=self.left_out.get((identifier, copy.name), ()))
            if copy.partial and copy.usable
            else copy
            for copy in copies
        ]

    def holds(self, identifier: str, name: BackupName, archive: StoredArchive) -> bool:
        if self.unreachable:
            raise ControllerError("off-site store unreachable")
        existing = self.copied.get(identifier, {}).get(name)
        if existing is not None and existing.sha256 != archive.checksum:
            raise ControllerError(f"{name} exists off-site with other content: not overwritten")
        return existing is not None

    def upload(
        self,
        identifier: str,
        name: BackupName,
        *,
        archive: StoredArchive,
        globals: StoredArchive | None,
        note: StoredArchive | None = None,
    ) -> OffsiteCopy:
        uploads = sum(1 for action in self.actions if action[0] == "upload")
        if self.unreachable or (self.fail_after is not None and uploads >= self.fail_after):
            raise ControllerError(f"upload of {name} failed: connection reset")
        existing = self.copied.get(identifier, {}).get(name)
        lost = self.lost.get((identifier, name), set())
        replaced = lost & (_REPLACED if globals is not None else _REPLACED - _REPLACED_GLOBALS)
        if existing is not None and (existing.sha256 != archive.checksum or replaced):
            raise ControllerError(f"{name} exists off-site with other content: not overwritten")
        if globals is not None and globals.checksum is not None:
            self.globals_sha256[identifier, name] = globals.checksum
        if existing is not None:  # an earlier upload's: completed, the archive never sent again
            kept_globals = existing.has_globals and Companion.GLOBALS not in lost
            kept_note = existing.partial and Companion.NOTE not in lost
            completed = attrs.evolve(
                existing,
                has_globals=kept_globals or globals is not None,
                partial=kept_note or note is not None,
            )
            if lost or completed != existing:
                self.copied[identifier][name] = completed
                self.lost.pop((identifier, name), None)
                self.actions.append(("complete", identifier, str(name)))
            return completed
        if self.locks is not None:
            self.locked_uploads.append(identifier in self.locks.holding)
        copy = OffsiteCopy(
            name=name,
            size=1234,
            has_globals=globals is not None,
            sha256=archive.checksum,
            partial=note is not None,
        )
        self.copied.setdefault(identifier, {})[name] = copy
        self.actions.append(("upload", identifier, str(name)))
        return copy

    def download(self, identifier: str, name: BackupName, into: PurePath) -> None:
        if self.unreachable:
            raise ControllerError("off-site store unreachable")
        if name not in self.copied.get(identifier, {}):
            raise BackupNotFoundError(f"no off-site copy {name} of {identifier}")
        self.actions.append(("download", identifier, str(name)))

    def delete(self, identifier: str, name: BackupName) -> None:
        self.copied.get(identifier, {}).pop(name, None)
        self.actions.append(("delete", identifier, str(name)))


@attrs.define
class FakeDownloads:
    """Fetches a FakeOffsiteStore's copies into a FakeStore of their own (its globals with
    the copy's checksum too); ``actions`` records each fetch and its removal."""

    offsite: FakeOffsiteStore
    actions: list[tuple[str, str, str]] = attrs.field(factory=list)

    @contextlib.contextmanager
    def fetch(self, identifier: str, name: BackupName) -> Iterator[FakeStore]:
        self.offsite.download(identifier, name, PurePath("/tmp"))
        copy = self.offsite.copied[identifier][name]
        fetched = FakeStore(
            layout=attrs.evolve(LAYOUT, data_root=LAYOUT.backup_dir(identifier) / ".fetched")
        )
        fetched.add(identifier, name, size=copy.size)
        if copy.sha256 is not None:
            fetched.checksums[identifier, name] = copy.sha256
            if copy.has_globals:  # the globals' own checksum, as uploaded
                fetched.globals_checksums[identifier, name] = self.offsite.globals_sha256.get(
                    (identifier, name), copy.sha256
                )
            if copy.partial:
                fetched.left_out[identifier, name] = self.offsite.left_out.get(
                    (identifier, name), ()
                )
        self.actions.append(("fetch", identifier, str(name)))
        try:
            yield fetched
        finally:
            self.actions.append(("remove", identifier, str(name)))


@attrs.define
class Fakes:
    """One fake of every port, and the use cases built on them."""

    clock: FakeClock = attrs.field(factory=FakeClock)
    store: FakeStore = attrs.field(factory=FakeStore)
    dumper: FakeDumper = attrs.field(factory=FakeDumper)
    checker: FakeArchiveChecker = attrs.field(factory=FakeArchiveChecker)
    locks: FakeLocks = attrs.field(factory=FakeLocks)
    hooks: FakeHooks = attrs.field(
        default=attrs.Factory(lambda self: FakeHooks(locks=self.locks), takes_self=True)
    )
    server: FakeServer = attrs.field(factory=FakeServer)
    restorer: FakeRestorer = attrs.field(factory=FakeRestorer)
    resetter: FakeWalResetter = attrs.field(factory=FakeWalResetter)
    run_log: FakeRunLog = attrs.field(factory=FakeRunLog)
    notifier: FakeNotifier = attrs.field(factory=FakeNotifier)
    pings: FakePings = attrs.field(factory=FakePings)
    globals_reader: FakeGlobalsReader = attrs.field(factory=lambda: FakeGlobalsReader())
    offsite: FakeOffsiteStore = attrs.field(factory=FakeOffsiteStore)
    servers: FakeServers = attrs.field(factory=FakeServers)
    downloads: FakeDownloads = attrs.field(
        default=attrs.Factory(lambda self: FakeDownloads(offsite=self.offsite), takes_self=True)
    )

    def writer(self) -> BackupWriter:
        return BackupWriter(
            clock=self.clock,
            catalog=self.store,
            staging=self.store,
            dumper=self.dumper,
            globals_dumper=self.dumper,
            checker=self.checker,
            server=self.server,
        )

    def take_backups(self, *, parallelism: int = 1, timezone: str = "UTC") -> TakeBackups:
        return TakeBackups(
            writer=self.writer(),
            shared=self.store.shared_copies,
            locks=self.locks,
            clock=self.clock,
            run_log=self.run_log,
            timezone=timezone,
            parallelism=parallelism,
            globals_files=self.store,
            hooks=self.hooks,
        )

    def expand_run(self) -> ExpandRun:
        return ExpandRun(
            server=self.servers,
            listings=self.servers,
            stored=self.store,
            catalog=self.store,
            clock=self.clock,
        )

    def prune(self, *, policy: RetentionPolicy = DEFAULT_POLICY) -> Prune:
        return Prune(
            catalog=self.store,
            locks=self.locks,
            clock=self.clock,
            run_log=self.run_log,
            policy=policy,
        )

    def restore(self, *, catalog: BackupReader | None = None) -> Restore:
        return Restore(
            catalog=self.store if catalog is None else catalog,
            shared=self.store.shared_copies,
            checker=self.checker,
            locks=self.locks,
            clock=self.clock,
            server=self.server,
            properties=self.server,
            restorer=self.restorer,
            writer=self.writer(),
            run_log=self.run_log,
            roles=self.server,
            globals_reader=self.globals_reader,
        )

    def verify(self, *, catalog: BackupReader | None = None) -> Verify:
        return Verify(
            catalog=self.store if catalog is None else catalog,
            checker=self.checker,
            locks=self.locks,
            clock=self.clock,
            server=self.server,
            restorer=self.restorer,
            counter=self.server,
            run_log=self.run_log,
        )

    def scheduled_verify(self, schedule: Schedule, *, remote: bool = False) -> ScheduledVerify:
        """VERIFY_SCHEDULE's use case on ``schedule``, recording through the journal."""
        return ScheduledVerify(
            catalog=self.store,
            verify=self.verify(),
            from_offsite=self.from_offsite,
            history=self.run_log,
            run_log=self.journal(),
            clock=self.clock,
            asked=VerifySchedule(schedule=schedule, remote=remote),
        )

    def sync(self) -> Sync:
        return Sync(
            catalog=self.store,
            offsite=self.offsite,
            locks=self.locks,
            clock=self.clock,
            run_log=self.run_log,
        )

    def from_offsite(self) -> FromOffsite:
        return FromOffsite(
            offsite=self.offsite,
            downloads=self.downloads,
            restore=self.restore,
            verify=self.verify,
        )

    def tell(self) -> Tell:
        return Tell(notifier=self.notifier, pings=self.pings)

    def journal(self) -> Journal:
        """What the container gives use cases to record through: history, then notifier."""
        return Journal(history=self.run_log, tell=self.tell())

    def prune_offsite(
        self, *, enabled: bool = True, policy: RetentionPolicy = DEFAULT_POLICY
    ) -> PruneOffsite:
        return PruneOffsite(
            offsite=self.offsite,
            locks=self.locks,
            clock=self.clock,
            run_log=self.run_log,
            policy=policy,
            enabled=enabled,
        )

    def backup_run(self, *, offsite: bool = True, retention: bool = True) -> BackupRun:
        """The run of ``dump`` and the scheduler; ``offsite`` False: no OFFSITE_URL."""
        steps: NoOffsite | CopyOffsite = NoOffsite()
        if offsite:
            steps = CopyOffsite(
                sync=self.sync(), prune_offsite=self.prune_offsite(), retention=retention
            )
        return BackupRun(
            expand=self.expand_run(),
            take_backups=self.take_backups(),
            offsite=steps,
            prune=self.prune(),
            tell=self.tell(),
        )

    def status(self, heartbeat: FakeHeartbeat) -> Status:
        """``status`` in production over the fakes, every database of a server seen."""
        return Status(
            catalog=self.store,
            history=self.run_log,
            clock=self.clock,
            schedules=Schedules(common=CronSchedule.parse(DEFAULT_SCHEDULE, "UTC")),
            heartbeat=heartbeat,
            production=True,
            stored=self.store,
            listings=self.servers,
        )

    def reset_wal(self) -> ResetWal:
        return ResetWal(resetter=self.resetter, locks=self.locks, clock=self.clock, layout=LAYOUT)


_SLOT_NAME = re.compile(r"[a-z0-9_]{1,63}")


@attrs.define
class FakeReplicationServer:
    """The server as a replication client sees it (the ReplicationServer port).

    ``refusal`` (the one line) refuses every replication connection and
    ``slot_refusal`` every new slot; ``unreachable`` fails everything as a server
    that is down. :meth:`write` moves the server's WAL on; ``actions`` lists each
    change of its slots in order.
    """

    identity: ServerIdentity = attrs.field(
        factory=lambda: ServerIdentity(
            system_identifier="7300000000000000001",
            timeline=1,
            current_lsn=0x1_0000_0000,
            wal_segment_size=16 << 20,
            server_major=15,
        )
    )
    slots: dict[str, SlotState] = attrs.field(factory=dict)
    refusal: str | None = None
    slot_refusal: str | None = None
    unreachable: bool = False
    actions: list[str] = attrs.field(factory=list)

    def identify(self, database: Database) -> ServerIdentity:
        self._reach(database)
        if self.refusal is not None:
            raise ReplicationRefusedError(self.refusal)
        return self.identity

    def slot(self, database: Database, name: str) -> SlotState | None:
        self._reach(database, name)
        return self.slots.get(name)

    def create_slot(self, database: Database, name: str) -> None:
        self._reach(database, name)
        if self.slot_refusal is not None:
            raise ReplicationRefusedError(self.slot_refusal)
        if name in self.slots:
            raise ToolError(
                f'psql on {database.identifier}: replication slot "{name}" already exists'
            )
        self.slots[name] = SlotState(
            name=name,
            active=False,
            restart_lsn=self.identity.current_lsn,
            wal_status="reserved",
            safe_wal_size=None,
            retained_bytes=0,
        )
        self.actions.append(f"create slot {name}")

    def drop_slot(self, database: Database, name: str) -> None:
        self._reach(database, name)
        slot = self.slots.get(name)
        if slot is None:
            return
        if slot.active:
            raise ToolError(f'psql on {database.identifier}: replication slot "{name}" is active')
        del self.slots[name]
        self.actions.append(f"drop slot {name}")

    def write(self, size: int) -> None:
        """Move the server's WAL on by ``size`` bytes: every slot holds them."""
        self.identity = attrs.evolve(self.identity, current_lsn=self.identity.current_lsn + size)
        for name, slot in self.slots.items():
            held = (slot.retained_bytes or 0) + size
            self.slots[name] = attrs.evolve(slot, retained_bytes=held)

    def use(self, name: str, *, active: bool = True) -> None:
        """Have a receiver hold the slot ``name`` (``active``), or let it go."""
        self.slots[name] = attrs.evolve(self.slots[name], active=active)

    def _reach(self, database: Database, slot: str | None = None) -> None:
        if slot is not None and not _SLOT_NAME.fullmatch(slot):
            raise ConfigurationError(
                f"{database.identifier}: {slot!r} is not a replication slot name"
            )
        if self.unreachable:
            raise ToolError(f"psql on {database.identifier}: connection refused")


# Point-in-time recovery: the stream store, base backup staging and tools.
PITR_FACTS = BackupFacts(
    system_identifier="7312345678901234567",
    timeline=1,
    start_lsn=0x2000028,
    end_lsn=0x2000100,
    wal_segment_size=16 * 1024 * 1024,
    server_major=15,
    manifest_sha256="e" * 64,
)


@attrs.define
class FakePitrStore:
    """Streams in memory: each stream's base backups and segments; records what is
    opened and committed in ``actions``."""

    kept: dict[str, list[Stream]] = attrs.field(factory=dict)
    bases: dict[tuple[str, str], list[BaseBackup]] = attrs.field(factory=dict)
    wal: dict[tuple[str, str], list[Segment]] = attrs.field(factory=dict)
    caught: dict[tuple[str, str], CaughtUp] = attrs.field(factory=dict)
    actions: list[str] = attrs.field(factory=list)
    # Stream directories whose STREAM.json is missing or broken, per service.
    broken: dict[str, list[DamagedStream]] = attrs.field(factory=dict)

    def streams(self, identifier: str) -> list[Stream]:
        return sorted(self.kept.get(identifier, []), key=lambda s: s.name, reverse=True)

    def damaged(self, identifier: str) -> list[DamagedStream]:
        return sorted(self.broken.get(identifier, []), key=lambda d: d.name, reverse=True)

    def open_stream(self, identifier: str, stream: Stream) -> Stream:
        taken = {s.name for s in self.kept.get(identifier, [])}
        taken |= {d.name for d in self.broken.get(identifier, [])}
        at = stream.started_at
        while utc_name(at) in taken:
            at += timedelta(seconds=1)
        stream = attrs.evolve(stream, name=utc_name(at), started_at=at)
        self.kept.setdefault(identifier, []).append(stream)
        self.actions.append(f"open {identifier} {stream.name} {stream.why.value}")
        return stream

    def base_backups(self, identifier: str, stream: Stream) -> list[BaseBackup]:
        found = self.bases.get((identifier, stream.name), [])
        return sorted(found, key=lambda b: b.name, reverse=True)

    def segments(self, identifier: str, stream: Stream) -> list[Segment]:
        return sorted(self.wal.get((identifier, stream.name), []), key=lambda s: s.name)

    def contents(self, identifier: str, stream: Stream) -> StreamContents:
        return StreamContents(
            stream=stream,
            base_backups=tuple(self.base_backups(identifier, stream)),
            segments=tuple(self.segments(identifier, stream)),
            caught_up=self.caught.get((identifier, stream.name)),
        )

    def record_caught_up(self, identifier: str, stream: Stream, caught: CaughtUp) -> None:
        """The WalArchive port's part: the proof kept per stream."""
        self.caught[(identifier, stream.name)] = caught

    def begin(self, identifier: str, name: str) -> contextlib.AbstractContextManager[FakeBaseDraft]:
        """The BaseStaging port: a draft that commits into this store."""
        return self._begin(identifier, name)

    @contextlib.contextmanager
    def _begin(self, identifier: str, name: str) -> Iterator[FakeBaseDraft]:
        self.actions.append(f"stage {identifier} {name}")
        yield FakeBaseDraft(
            store=self, identifier=identifier, path=PurePath(f"/staging/{identifier}/{name}")
        )

    def commit(self, identifier: str, stream: Stream, backup: BaseBackup) -> BaseBackup:
        backup = attrs.evolve(backup, size=4096)
        self.bases.setdefault((identifier, stream.name), []).append(backup)
        self.actions.append(f"commit {identifier} {stream.name}/{backup.name}")
        return backup

    # The PitrPruner port: names in ``undeletable`` (a base backup's, a segment's or a
    # stream's) fail to go, as a directory the controller may not write would.
    undeletable: set[str] = attrs.field(factory=set)

    def delete_base_backup(self, identifier: str, stream: Stream, backup: BaseBackup) -> None:
        self._deletable(backup.name)
        self.bases[(identifier, stream.name)].remove(backup)
        self.actions.append(f"delete {identifier} {stream.name}/base/{backup.name}")

    def delete_segment(self, identifier: str, stream: Stream, segment: Segment) -> None:
        self._deletable(segment.name)
        self.wal[(identifier, stream.name)].remove(segment)
        self.actions.append(f"delete {identifier} {stream.name}/wal/{segment.name}")

    def delete_stream(self, identifier: str, stream: Stream) -> None:
        self._deletable(stream.name)
        self.kept[identifier].remove(stream)
        self.bases.pop((identifier, stream.name), None)
        self.wal.pop((identifier, stream.name), None)
        self.actions.append(f"delete {identifier} {stream.name}")

    def _deletable(self, name: str) -> None:
        if name in self.undeletable:
            raise ControllerError(f"cannot delete {name}: Permission denied")


@attrs.frozen
class FakeBaseDraft:
    """A base backup being written into a FakePitrStore."""

    store: FakePitrStore
    identifier: str
    path: PurePath

    def commit(self, stream: Stream, backup: BaseBackup) -> BaseBackup:
        return self.store.commit(self.identifier, stream, backup)


@attrs.define
class FakeBaseBackupTaker:
    """Says ``facts`` of each backup it takes (per identifier in ``facts_of``); fails
    with ``failing[identifier]``; records each take."""

    facts: BackupFacts = PITR_FACTS
    facts_of: dict[str, BackupFacts] = attrs.field(factory=dict)
    failing: dict[str, ControllerError] = attrs.field(factory=dict)
    taken: list[tuple[str, PurePath, str]] = attrs.field(factory=list)

    def take(self, database: Database, into: PurePath, *, label: str) -> BackupFacts:
        self.taken.append((database.identifier, into, label))
        if database.identifier in self.failing:
            raise self.failing[database.identifier]
        return self.facts_of.get(database.identifier, self.facts)


@attrs.define
class FakeBackupVerifier:
    """Passes every backup but those under ``corrupt`` paths; records each check."""

    corrupt: set[PurePath] = attrs.field(factory=set)
    checked: list[tuple[PurePath, int]] = attrs.field(factory=list)

    def verify(self, directory: PurePath, server_major: int) -> None:
        self.checked.append((directory, server_major))
        if directory in self.corrupt:
            raise IntegrityError(f"pg_verifybackup of {directory} failed (exit 1): bad checksum")


@attrs.define
class FakeReceiverStates:
    """The ReceiverStates port in memory: every state written, in order, per service."""

    written: dict[str, list[ReceiverState]] = attrs.field(factory=dict)

    def write(self, identifier: str, state: ReceiverState) -> None:
        self.written.setdefault(identifier, []).append(state)

    def read(self, identifier: str) -> ReceiverState | None:
        states = self.written.get(identifier)
        return states[-1] if states else None
