"""One set of checks run against the fake off-site store and the real one over each
bucket, S3 (SeaweedFS) and a directory (``file://``), so the unit tests' fake stays
honest and the two backends keep one contract; ``hand`` does to each what a hand in the
bucket would (plant an object under a backup name, delete or replace a copy's
companions)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import attrs
import pytest

from pg_backup_manager.adapters.offsite.age_cipher import AgeCipher
from pg_backup_manager.adapters.offsite.file.bucket import FileBucket
from pg_backup_manager.adapters.offsite.store import BucketOffsiteStore
from pg_backup_manager.domain.errors import BackupNotFoundError, ControllerError
from pg_backup_manager.domain.every_database import StoredDatabases
from pg_backup_manager.domain.names import BackupName, StoredArchive
from pg_backup_manager.domain.offsite.ports import (
    OffsiteDownloader,
    OffsitePruner,
    OffsiteUploader,
)

from ..unit.fakes import Companion, FakeOffsiteStore
from .s3 import S3Server, connect

pytestmark = pytest.mark.integration

OLD = BackupName.parse("file_daily_2024-07-03T09:00:00Z.dump")
NEW = BackupName.parse("file_weekly_2024-07-06T09:00:00Z.dump")

Upload = Callable[..., object]


class OffsiteStore(OffsiteUploader, OffsitePruner, OffsiteDownloader, StoredDatabases, Protocol):
    """Every role of the off-site store: what the contract checks."""


BACKENDS = ["fake", "s3", "file"]


def new_store(
    kind: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> OffsiteStore:
    """Return an empty off-site store of ``kind`` (one of BACKENDS): the fake, the core over
    a fresh prefix of the shared SeaweedFS, or the core over a fresh directory."""
    if kind == "fake":
        return FakeOffsiteStore()
    if kind == "file":
        root = tmp_path_factory.mktemp("offsite")
        return BucketOffsiteStore(bucket=FileBucket(root=root), cipher=AgeCipher())
    s3_server: S3Server = request.getfixturevalue("s3_server")
    return connect(s3_server.settings(f"contract-{uuid.uuid4().hex[:12]}"))


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> OffsiteStore:
    return new_store(request.param, request, tmp_path_factory)


class Hand(Protocol):
    """What someone with write access to the bucket does to the copies of ``users``."""

    def plant(self, name: BackupName, content: bytes) -> None: ...

    def lose(self, name: BackupName, *companions: Companion) -> None: ...


@attrs.frozen
class FakeHand:
    store: FakeOffsiteStore

    def plant(self, name: BackupName, content: bytes) -> None:
        self.store.plant("users", name, size=len(content))

    def lose(self, name: BackupName, *companions: Companion) -> None:
        self.store.lose("users", name, *companions)


class BucketHand:
    """A hand in a real bucket: what it does, through ``_get``, ``_put`` and ``_delete``."""

    def _get(self, name: str) -> bytes:
        raise NotImplementedError

    def _put(self, name: str, body: bytes) -> None:
        raise NotImplementedError

    def _delete(self, name: str) -> None:
        raise NotImplementedError

    def plant(self, name: BackupName, content: bytes) -> None:
        self._put(str(name), content)

    def lose(self, name: BackupName, *companions: Companion) -> None:
        checksum = f"{name}.sha256"
        for companion in companions:
            match companion:
                case Companion.CHECKSUM:
                    self._delete(checksum)
                case Companion.WRONG_CHECKSUM:
                    self._put(checksum, f"{'0' * 64}  {name}\n".encode())
                case Companion.MISNAMED_CHECKSUM:
                    digest = self._get(checksum).split()[0]
                    self._put(checksum, digest + b"  other_file.dump\n")
                case Companion.GLOBALS:
                    self._delete(name.globals_name)
                case Companion.OTHER_GLOBALS:
                    self._put(name.globals_name, b"CREATE ROLE intruder;\n")
                case Companion.GLOBALS_CHECKSUM:
                    self._delete(f"{name.globals_name}.sha256")
                case Companion.WRONG_GLOBALS_CHECKSUM:
                    line = f"{'e' * 64}  {name.globals_name}\n"
                    self._put(f"{name.globals_name}.sha256", line.encode())
                case Companion.NOTE:
                    self._delete(name.note_name)
                case Companion.NOTE_CHECKSUM:
                    self._delete(f"{name.note_name}.sha256")


@attrs.frozen
class S3Hand(BucketHand):
    store: BucketOffsiteStore
    server: S3Server

    def _get(self, name: str) -> bytes:
        body = self.server.client().get_object(Bucket=self.server.bucket, Key=self._key(name))
        return body["Body"].read()

    def _put(self, name: str, body: bytes) -> None:
        self.server.client().put_object(Bucket=self.server.bucket, Key=self._key(name), Body=body)

    def _delete(self, name: str) -> None:
        self.server.client().delete_object(Bucket=self.server.bucket, Key=self._key(name))

    def _key(self, name: str) -> str:
        return f"{self.store.prefix}/users/{name}"


@attrs.frozen
class FileHand(BucketHand):
    """A hand in the directory: writes, reads and deletes files (no record with them)."""

    root: Path

    def _get(self, name: str) -> bytes:
        return (self.root / "users" / name).read_bytes()

    def _put(self, name: str, body: bytes) -> None:
        (self.root / "users").mkdir(exist_ok=True)
        (self.root / "users" / f".{name}.meta").unlink(missing_ok=True)
        (self.root / "users" / name).write_bytes(body)

    def _delete(self, name: str) -> None:
        (self.root / "users" / name).unlink()


@pytest.fixture
def hand(store: OffsiteStore, request: pytest.FixtureRequest) -> Hand:
    if isinstance(store, FakeOffsiteStore):
        return FakeHand(store)
    assert isinstance(store, BucketOffsiteStore)
    if isinstance(store.bucket, FileBucket):
        return FileHand(store.bucket.root)
    return S3Hand(store, request.getfixturevalue("s3_server"))


@pytest.fixture
def upload(store: OffsiteStore, tmp_path: Path) -> Upload:
    def upload(
        name: BackupName, content: bytes, *, with_globals: bool = True, note: bool = False
    ) -> object:
        archive = tmp_path / f"{uuid.uuid4().hex}.dump"
        archive.write_bytes(content)
        globals_file = tmp_path / f"{uuid.uuid4().hex}.globals.sql"
        globals_file.write_text("CREATE ROLE app;\n")
        note_file = tmp_path / f"{uuid.uuid4().hex}.left-out.json"
        note_file.write_text('{"schema": 1, "left_out": ["--exclude-table=audit"]}\n')
        return store.upload(
            "users",
            name,
            archive=StoredArchive(path=archive, checksum=hashlib.sha256(content).hexdigest()),
            globals=(
                StoredArchive(
                    path=globals_file,
                    checksum=hashlib.sha256(globals_file.read_bytes()).hexdigest(),
                )
                if with_globals
                else None
            ),
            note=(
                StoredArchive(path=note_file, checksum=_sha(note_file.read_bytes()))
                if note
                else None
            ),
        )

    return upload


def test_a_new_store_has_no_copies(store: OffsiteStore) -> None:
    assert store.copies("users") == []


def test_uploaded_backups_are_listed_newest_first_with_their_globals(
    store: OffsiteStore, upload: Upload
) -> None:
    upload(OLD, b"old archive", with_globals=False)
    upload(NEW, b"new archive")

    copies = store.copies("users")

    assert [(copy.name, copy.has_globals) for copy in copies] == [(NEW, True), (OLD, False)]
    assert store.copies("orders") == []


def test_uploading_the_same_backup_again_counts_it_as_uploaded(
    store: OffsiteStore, upload: Upload
) -> None:
    upload(OLD, b"old archive")

    upload(OLD, b"old archive")

    assert [copy.name for copy in store.copies("users")] == [OLD]


def test_another_content_under_a_backup_name_is_refused_and_the_first_kept(
    store: OffsiteStore, upload: Upload
) -> None:
    upload(OLD, b"old archive")

    with pytest.raises(ControllerError, match="other content"):
        upload(OLD, b"a different archive")

    upload(OLD, b"old archive")  # still the first content: counted as uploaded, no error
    assert [copy.name for copy in store.copies("users")] == [OLD]


def test_deleting_a_backup_removes_it_and_deleting_it_again_is_fine(
    store: OffsiteStore, upload: Upload
) -> None:
    upload(OLD, b"old archive")
    upload(NEW, b"new archive")

    store.delete("users", OLD)
    store.delete("users", OLD)

    assert [copy.name for copy in store.copies("users")] == [NEW]


def test_holds_is_true_only_for_the_same_content_and_refuses_other_content(
    store: OffsiteStore, upload: Upload, tmp_path: Path
) -> None:
    upload(OLD, b"old archive")
    same = tmp_path / "same.dump"
    same.write_bytes(b"old archive")
    other = tmp_path / "other.dump"
    other.write_bytes(b"another archive")

    held = store.holds("users", OLD, StoredArchive(path=same, checksum=_sha(b"old archive")))
    absent = store.holds("users", NEW, StoredArchive(path=same, checksum=_sha(b"old archive")))

    assert (held, absent) == (True, False)
    with pytest.raises(ControllerError, match="other content"):
        store.holds("users", OLD, StoredArchive(path=other, checksum=_sha(b"another archive")))


def _sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def test_downloading_a_backup_the_store_lacks_is_not_found(
    store: OffsiteStore, upload: Upload, tmp_path: Path
) -> None:
    upload(OLD, b"old archive")

    with pytest.raises(BackupNotFoundError):
        store.download("users", NEW, tmp_path)
    with pytest.raises(BackupNotFoundError):
        store.download("orders", OLD, tmp_path)

    store.download("users", OLD, tmp_path)  # what it holds comes down


def test_an_object_under_a_backup_name_without_a_checksum_is_listed_unusable(
    store: OffsiteStore, upload: Upload, hand: Hand
) -> None:
    upload(OLD, b"old archive")

    hand.plant(NEW, b"twelve bytes")

    new, old = store.copies("users")
    assert (new.name, new.size, new.usable, new.has_globals) == (NEW, 12, False, False)
    assert new.problem == f"no checksum object ({NEW}.sha256)"
    assert (old.name, old.usable) == (OLD, True)


def test_a_copy_that_lost_its_companions_is_unusable_until_an_upload_completes_it(
    store: OffsiteStore, upload: Upload, hand: Hand
) -> None:
    upload(OLD, b"old archive")
    hand.lose(OLD, Companion.CHECKSUM, Companion.GLOBALS, Companion.GLOBALS_CHECKSUM)
    [lost] = store.copies("users")

    upload(OLD, b"old archive")

    assert (lost.usable, lost.has_globals) == (False, False)
    [completed] = store.copies("users")
    assert (completed.usable, completed.has_globals, completed.sha256) == (
        True,
        True,
        _sha(b"old archive"),
    )


def test_globals_without_their_checksum_make_a_copy_unusable(
    store: OffsiteStore, upload: Upload, hand: Hand
) -> None:
    upload(OLD, b"old archive")

    hand.lose(OLD, Companion.GLOBALS_CHECKSUM)

    [copy] = store.copies("users")
    assert copy.problem == f"no checksum object for its globals ({OLD.globals_name}.sha256)"


def test_a_checksum_object_that_disagrees_makes_a_copy_unusable_and_is_never_overwritten(
    store: OffsiteStore, upload: Upload, hand: Hand
) -> None:
    upload(OLD, b"old archive")
    hand.lose(OLD, Companion.WRONG_CHECKSUM)

    with pytest.raises(ControllerError, match="other content"):
        upload(OLD, b"old archive")

    [copy] = store.copies("users")
    assert copy.problem is not None and copy.problem.startswith(
        f"its checksum object ({OLD}.sha256) says 0000000000000000..."
    )


def test_a_checksum_object_naming_another_file_makes_a_copy_unusable_and_is_kept(
    store: OffsiteStore, upload: Upload, hand: Hand
) -> None:
    upload(OLD, b"old archive")
    hand.lose(OLD, Companion.MISNAMED_CHECKSUM)

    with pytest.raises(ControllerError, match="other content"):
        upload(OLD, b"old archive")

    [copy] = store.copies("users")
    assert copy.problem == f"its checksum object ({OLD}.sha256) is not a sha256sum line for {OLD}"


@pytest.mark.parametrize(
    ("replaced", "problem"),
    [
        (
            Companion.WRONG_GLOBALS_CHECKSUM,
            f"its checksum object ({OLD.globals_name}.sha256) says eeeeeeeeeeeeeeee...",
        ),
        (Companion.OTHER_GLOBALS, "no SHA-256 recorded with its globals"),
    ],
)
def test_replaced_globals_make_a_copy_unusable_and_are_never_overwritten(
    store: OffsiteStore, upload: Upload, hand: Hand, replaced: Companion, problem: str
) -> None:
    upload(OLD, b"old archive")
    hand.lose(OLD, replaced)

    with pytest.raises(ControllerError, match="other content"):
        upload(OLD, b"old archive")

    [copy] = store.copies("users")
    assert copy.problem is not None and copy.problem.startswith(problem)
    if replaced is Companion.OTHER_GLOBALS and isinstance(hand, S3Hand | FileHand):
        # Where the backend records it, in its own words.
        record = "x-amz-meta-sha256" if isinstance(hand, S3Hand) else f".{OLD.globals_name}.meta"
        assert copy.problem == f"{problem} ({record})"


def test_a_globals_checksum_without_its_globals_is_unusable_until_an_upload_completes_it(
    store: OffsiteStore, upload: Upload, hand: Hand
) -> None:
    upload(OLD, b"old archive")
    hand.lose(OLD, Companion.GLOBALS)
    [lost] = store.copies("users")

    upload(OLD, b"old archive")

    assert lost.problem == (
        f"its globals' checksum object ({OLD.globals_name}.sha256) is there but not its "
        f"globals ({OLD.globals_name})"
    )
    [completed] = store.copies("users")
    assert (completed.usable, completed.has_globals) == (True, True)


def test_the_databases_of_a_server_are_found_by_their_own_prefixes_and_kept_apart(
    store: OffsiteStore, tmp_path: Path
) -> None:
    archive = tmp_path / "archive.dump"
    archive.write_bytes(b"archive")
    stored = StoredArchive(path=archive, checksum=hashlib.sha256(b"archive").hexdigest())
    for identifier in ("main/app", "main/a/b", "main/my db", "main", "users"):
        store.upload(identifier, OLD, archive=stored, globals=None)

    names = store.database_names("main")

    assert names == ["a/b", "app", "my db"]
    assert store.database_names("users") == []
    assert [copy.name for copy in store.copies("main")] == [OLD]
    assert [copy.name for copy in store.copies("main/a/b")] == [OLD]


def test_a_copy_uploaded_with_its_note_is_partial_and_judged_by_it_until_completed(
    store: OffsiteStore, upload: Upload, hand: Hand
) -> None:
    upload(OLD, b"old archive", note=True)
    upload(NEW, b"new archive")
    new, old = store.copies("users")
    hand.lose(OLD, Companion.NOTE_CHECKSUM)
    lost_its_checksum = store.copies("users")[1]
    hand.lose(OLD, Companion.NOTE)
    made_before = store.copies("users")[1]

    upload(OLD, b"old archive", note=True)

    assert (old.partial, old.usable, new.partial, new.usable) == (True, True, False, True)
    assert lost_its_checksum.problem == (
        f"no checksum object for its note ({OLD.note_name}.sha256)"
    )
    assert (made_before.partial, made_before.usable) == (False, True)
    completed = store.copies("users")[1]
    assert (completed.partial, completed.usable, completed.sha256) == (
        True,
        True,
        _sha(b"old archive"),
    )
