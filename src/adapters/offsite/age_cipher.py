"""Encryption of what leaves the host, with age (the ``age`` program, Debian's package).

Uploads read the ciphertext from ``age --encrypt`` as it is made: the archive
is fed to it by a thread that also hashes it, so what was encrypted is proven
to be the archive its checksum describes. The stream ends in an error, never
in a short object, when age fails or the hash differs: the upload is then
abandoned before the store completes it. Downloads are decrypted by
``age --decrypt`` with the identity file, then checked against the plaintext's
checksum like any local backup.
"""

from __future__ import annotations

import contextlib
import math
import subprocess
from collections.abc import Iterator
from pathlib import Path

import attrs

from pg_backup_manager.adapters import processes
from pg_backup_manager.adapters.env_values import MAX_SECONDS
from pg_backup_manager.adapters.offsite.age_stream import Ciphertext
from pg_backup_manager.adapters.postgres.pg_binaries import command
from pg_backup_manager.domain.errors import ConfigurationError, ControllerError, IntegrityError

AGE = "age"
MAGIC = b"age-encryption.org/v1\n"
_PLAIN_CHUNK = 64 * 1024  # age seals the plaintext in chunks of 64 KiB...
_TAG = 16  # ...each followed by its 16-byte tag, after a 16-byte nonce
_NO_IDENTITY = "no identity matched"
# What age says of an identity file it cannot use (with the file's path taken out).
_BAD_IDENTITY = (
    "reading ",
    "identity file",
    "passphrase",
    "secret key",
    "identity type",
    "no secret keys",
)
# What age says of a file that is not age's or was changed: the copy cannot be trusted.
_DAMAGED = (
    "failed to read header",
    "failed to parse header",
    "parsing age header",
    "failed to read nonce",
    "unexpected eof",
    "failed to decrypt and authenticate payload chunk",
    "bad header mac",
    "last chunk is empty",
)
_SAID_AT_MOST = 200  # characters of age's words in a message (it may quote the file)


def smallest_ciphertext(plain_size: int) -> int:
    """Return a lower bound of the size of ``plain_size`` bytes encrypted by age: its
    payload and the magic line (the recipients' stanzas add more)."""
    chunks = max(1, math.ceil(plain_size / _PLAIN_CHUNK))
    return len(MAGIC) + _TAG + plain_size + chunks * _TAG


@attrs.frozen(kw_only=True)
class AgeCipher:
    """Encrypts to ``recipients`` (age or SSH public keys); decrypts with the secret keys
    in ``identity_file``. Either may be absent: a controller that only makes backups
    needs no identity, and one that only restores needs no recipients."""

    recipients: tuple[str, ...] = ()
    identity_file: str | None = None

    @property
    def encrypts(self) -> bool:
        """Return whether uploads are encrypted (ENCRYPTION_RECIPIENTS is set)."""
        return bool(self.recipients)

    def smallest_ciphertext(self, plain_size: int) -> int:
        """Return a lower bound of the size of ``plain_size`` bytes encrypted by age."""
        return smallest_ciphertext(plain_size)

    @contextlib.contextmanager
    def encrypted(self, path: Path, checksum: str) -> Iterator[Ciphertext]:
        """Yield the ciphertext of the file at ``path`` as a stream to read, made as it
        is read; the file must have the SHA-256 ``checksum``.

        Raises:
            ControllerError: the file cannot be opened.
            ToolError: age cannot be started.
        """
        args = [arg for recipient in self.recipients for arg in ("--recipient", recipient)]
        try:
            source = path.open("rb")
        except OSError as error:
            raise ControllerError(f"cannot read {path}: {error.strerror}") from None
        with (
            source,
            processes.started(
                command(AGE),
                ["--encrypt", *args],
                what=f"age (encrypting {path.name})",
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
            ) as tool,
        ):
            stream = Ciphertext(tool=tool, source=source, checksum=checksum, name=path.name)
            stream.start()
            try:
                yield stream
            finally:
                stream.stop()

    def decrypt(self, source: Path, target: Path, *, what: str) -> None:
        """Decrypt the file at ``source`` into ``target`` (``what`` names it in errors).

        Raises:
            ConfigurationError: ENCRYPTION_IDENTITY_FILE is unset or unreadable, or
                holds no identity the copy was encrypted to.
            IntegrityError: the copy is not age's, or was changed: age refuses it.
            ToolError: age cannot be started.
        """
        identity = self.identity(what)
        with processes.started(
            command(AGE),
            ["--decrypt", "--identity", identity, "--output", str(target), str(source)],
            what=f"age (decrypting {what})",
        ) as tool:
            code = tool.process.wait(MAX_SECONDS)
            if code == 0:
                target.touch()  # age 1.1 writes no file for an empty plaintext
                return
            said = tool.said()[:_SAID_AT_MOST]
            failure = tool.failure(code)  # while its stderr file is open
        raise _decrypt_failure(said, paths=(identity, str(source)), what=what) or failure

    def identity(self, what: str) -> str:
        """Return the path of the identity file that decrypts ``what``.

        Raises:
            ConfigurationError: ENCRYPTION_IDENTITY_FILE is unset or unreadable.
        """
        if self.identity_file is None:
            raise ConfigurationError(
                f"{what} is encrypted with age: set ENCRYPTION_IDENTITY_FILE to the file "
                "holding the secret key (AGE-SECRET-KEY-1...) of one of its recipients"
            )
        path = Path(self.identity_file)
        try:
            with path.open("rb"):
                pass
        except OSError as error:
            raise ConfigurationError(
                f"ENCRYPTION_IDENTITY_FILE: cannot read {path}: {error.strerror or error}"
            ) from None
        return str(path)


def _decrypt_failure(said: str, *, paths: tuple[str, str], what: str) -> ControllerError | None:
    """Return the error ``said`` by a failed ``age --decrypt`` means, or None when it is
    none of the known ones: an identity that is not the copy's or cannot be used
    (configuration: exit 2), or a copy that is not age's or was changed (exit 3)."""
    identity = paths[0]
    words = said
    for path in paths:  # a path may hold any word
        words = words.replace(f'"{path}"', '""').replace(path, "")
    words = words.lower()
    if _NO_IDENTITY in words:
        return ConfigurationError(
            f"{what} is encrypted to other keys: ENCRYPTION_IDENTITY_FILE ({identity}) "
            "holds none of them (age: no identity matched any of the recipients)"
        )
    if any(word in words for word in _BAD_IDENTITY):
        return ConfigurationError(
            f"ENCRYPTION_IDENTITY_FILE ({identity}) cannot be used to decrypt {what}: {said}; "
            "it must hold age secret keys (AGE-SECRET-KEY-1..., as age-keygen writes them) "
            "or an SSH private key without passphrase"
        )
    if any(word in words for word in _DAMAGED):
        return IntegrityError(
            f"{what} cannot be decrypted: it was damaged or changed off-site ({said}); "
            "it is not used"
        )
    return None
