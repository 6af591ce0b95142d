"""The age adapter with the real ``age`` program: a stream that ends only once proven, and
each way decryption fails named for what it is (the identity: exit 2; the copy: exit 3)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from pg_backup_manager.adapters.offsite.age_cipher import MAGIC, AgeCipher, smallest_ciphertext
from pg_backup_manager.domain.errors import ConfigurationError, ControllerError, IntegrityError

from .age_keys import new_key_pair

pytestmark = pytest.mark.integration


@pytest.fixture
def keys(tmp_path: Path) -> dict[str, tuple[str, Path]]:
    # A directory named like words age says, so that the path cannot be taken for them.
    home = tmp_path / "machine mac header chunk"
    home.mkdir()
    return {name: (new_key_pair(home / f"{name}.txt"), home / f"{name}.txt") for name in ("a", "b")}


def encrypt(cipher: AgeCipher, source: Path, size: int = 5000) -> bytes:
    source.write_bytes(os.urandom(size))
    checksum = hashlib.sha256(source.read_bytes()).hexdigest()
    with cipher.encrypted(source, checksum) as stream:
        return b"".join(iter(lambda: stream.read(4096), b""))


@pytest.mark.parametrize("size", [0, 1, 65536, 65537, 300_000])
def test_what_is_encrypted_decrypts_to_the_same_bytes_and_is_at_least_its_smallest_size(
    keys: dict[str, tuple[str, Path]], tmp_path: Path, size: int
) -> None:
    cipher = AgeCipher(recipients=(keys["a"][0], keys["b"][0]), identity_file=str(keys["b"][1]))
    source = tmp_path / "plain"

    ciphertext = encrypt(cipher, source, size)
    (tmp_path / "c.age").write_bytes(ciphertext)
    cipher.decrypt(tmp_path / "c.age", tmp_path / "out", what="the copy")

    assert ciphertext.startswith(MAGIC)
    assert len(ciphertext) >= smallest_ciphertext(size)
    # The output file exists even for an empty plaintext (age 1.1 writes none then).
    assert (tmp_path / "out").read_bytes() == source.read_bytes()


def test_a_stream_of_a_file_that_is_not_its_checksum_ends_in_an_error_not_an_end(
    keys: dict[str, tuple[str, Path]], tmp_path: Path
) -> None:
    cipher = AgeCipher(recipients=(keys["a"][0],))
    source = tmp_path / "plain"
    source.write_bytes(os.urandom(200_000))
    read = bytearray()

    with (
        pytest.raises(IntegrityError, match="does not match its checksum"),
        cipher.encrypted(source, "0" * 64) as stream,
    ):
        while chunk := stream.read(65536):
            read += chunk

    assert len(read) < 200_000  # the short last read never came back


def test_a_recipient_age_refuses_is_a_configuration_error(tmp_path: Path) -> None:
    cipher = AgeCipher(recipients=("age1" + "q" * 58,))
    source = tmp_path / "plain"
    source.write_bytes(b"x" * 10)

    with (
        pytest.raises(ConfigurationError, match="ENCRYPTION_RECIPIENTS: age refused"),
        cipher.encrypted(source, hashlib.sha256(b"x" * 10).hexdigest()) as stream,
    ):
        stream.read(1 << 20)


def identity_file(keys: dict[str, tuple[str, Path]], tmp_path: Path, kind: str) -> Path:
    """An identity file age cannot use, of ``kind``."""
    path = keys["a"][1].parent / f"{kind}.txt"
    secret = keys["a"][1].read_text().splitlines()[-1]
    text = {
        "public key": keys["a"][0] + "\n",
        "empty": "",
        "typo": secret[:-3] + ("aaa" if not secret.endswith("aaa") else "bbb") + "\n",
    }[kind]
    path.write_text(text.upper() if kind == "typo" else text)
    return path


@pytest.mark.parametrize("kind", ["public key", "empty", "typo"])
def test_an_identity_file_age_cannot_use_is_a_configuration_error_naming_it(
    keys: dict[str, tuple[str, Path]], tmp_path: Path, kind: str
) -> None:
    ciphertext = tmp_path / "c.age"
    ciphertext.write_bytes(encrypt(AgeCipher(recipients=(keys["a"][0],)), tmp_path / "plain"))
    path = identity_file(keys, tmp_path, kind)

    with pytest.raises(ConfigurationError) as error:
        AgeCipher(identity_file=str(path)).decrypt(ciphertext, tmp_path / "out", what="the copy")

    assert f"ENCRYPTION_IDENTITY_FILE ({path}) cannot be used" in str(error.value)
    assert keys["a"][1].read_text().splitlines()[-1] not in str(error.value)


def test_an_identity_the_copy_was_not_encrypted_to_is_a_configuration_error(
    keys: dict[str, tuple[str, Path]], tmp_path: Path
) -> None:
    ciphertext = tmp_path / "c.age"
    ciphertext.write_bytes(encrypt(AgeCipher(recipients=(keys["a"][0],)), tmp_path / "plain"))

    with pytest.raises(ConfigurationError, match="encrypted to other keys"):
        AgeCipher(identity_file=str(keys["b"][1])).decrypt(
            ciphertext, tmp_path / "out", what="the copy"
        )


@pytest.mark.parametrize(
    "damage", ["flipped payload", "cut in the payload", "header only", "empty", "not age's"]
)
def test_a_copy_that_is_not_age_s_or_was_changed_is_an_integrity_error(
    keys: dict[str, tuple[str, Path]], tmp_path: Path, damage: str
) -> None:
    good = encrypt(AgeCipher(recipients=(keys["a"][0],)), tmp_path / "plain", 200_000)
    header = good.index(b"\n---") + 1
    header_end = good.index(b"\n", header) + 1
    flipped = bytearray(good)
    flipped[-100] ^= 1
    body = {
        "flipped payload": bytes(flipped),
        "cut in the payload": good[: len(good) // 2],
        "header only": good[:header_end],
        "empty": b"",
        "not age's": b"PGDMP\x01\x10\x00" + os.urandom(5000),
    }[damage]
    ciphertext = tmp_path / "c.age"
    ciphertext.write_bytes(body)

    with pytest.raises(IntegrityError, match="damaged or changed off-site") as error:
        AgeCipher(identity_file=str(keys["a"][1])).decrypt(
            ciphertext, tmp_path / "out", what="the copy"
        )

    assert len(str(error.value)) < 400


def test_without_an_identity_file_decrypting_says_which_variable_to_set(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="set ENCRYPTION_IDENTITY_FILE"):
        AgeCipher().decrypt(tmp_path / "c.age", tmp_path / "out", what="the copy")
    with pytest.raises(ConfigurationError, match="cannot read"):
        AgeCipher(identity_file=str(tmp_path / "missing")).decrypt(
            tmp_path / "c.age", tmp_path / "out", what="the copy"
        )


def test_a_file_that_cannot_be_read_is_an_error_before_age_starts(tmp_path: Path) -> None:
    with (
        pytest.raises(ControllerError, match="cannot read"),
        AgeCipher(recipients=("age1" + "q" * 58,)).encrypted(tmp_path / "missing", "0" * 64),
    ):
        pass
