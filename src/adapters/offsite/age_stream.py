"""The ciphertext of an upload, read from ``age --encrypt`` as it is made (see
:mod:`~pg_backup_manager.adapters.offsite.age_cipher`)."""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections.abc import Callable
from typing import IO

import attrs

from pg_backup_manager.adapters import processes
from pg_backup_manager.adapters.env_values import MAX_SECONDS
from pg_backup_manager.domain.errors import ConfigurationError, ControllerError, IntegrityError

_FEED = 1024 * 1024  # bytes of the archive handed to age at a time


@attrs.define(kw_only=True)
class Ciphertext:
    """The output of ``age --encrypt`` as a file to read (not seekable), fed by a thread.

    Its end is only reported once age exited 0 and the bytes fed had the
    expected SHA-256; otherwise reading it raises, so what reads it (an upload)
    stops before it is complete.
    """

    tool: processes.Started
    source: IO[bytes]
    checksum: str
    name: str
    sent: int = 0
    _digest: hashlib._Hash = attrs.field(factory=hashlib.sha256)
    _feeder: threading.Thread | None = None
    _fed_error: OSError | None = None
    _ended: bool = False
    abandoned: Callable[[], bool] = lambda: False  # the reader gave up: stop making more

    def start(self) -> None:
        """Start feeding the source to age."""
        self._feeder = threading.Thread(target=self._feed, name="age-feed", daemon=True)
        self._feeder.start()

    def readable(self) -> bool:
        """Return True: this is a stream to read."""
        return True

    def seekable(self) -> bool:
        """Return False: the ciphertext is made as it is read."""
        return False

    def read(self, size: int = -1) -> bytes:
        """Return up to ``size`` bytes of ciphertext (fewer only at its proven end).

        Raises:
            ControllerError: age failed, the source could not be read, or the reader
                abandoned the stream.
            IntegrityError: the source's SHA-256 is not its checksum.
        """
        if self._ended:
            return b""
        if self.abandoned():
            raise ControllerError(f"the upload of {self.name} failed: its encryption stops")
        data = self.tool.stdout.read(size)
        self.sent += len(data)
        if size < 0 or len(data) < size:  # a pipe's buffered read is short only at its end
            self._finish()
            self._ended = True
        return data

    def stop(self) -> None:
        """Stop age and the feeder (after a failed upload too)."""
        if self.tool.process.poll() is None:
            processes.stop(self.tool.process)
        if self._feeder is not None:
            self._feeder.join()

    def _feed(self) -> None:
        stdin = self.tool.stdin
        try:
            while chunk := self.source.read(_FEED):
                self._digest.update(chunk)
                stdin.write(chunk)
        except OSError as error:  # age died (a broken pipe) or the file failed
            self._fed_error = error
        finally:
            with contextlib.suppress(OSError):
                stdin.close()

    def _finish(self) -> None:
        code = self.tool.process.wait(MAX_SECONDS)
        if self._feeder is not None:
            self._feeder.join()
        if code != 0:
            raise self._age_failure(code)
        if self._fed_error is not None:
            raise ControllerError(
                f"cannot read {self.name} to encrypt it: "
                f"{self._fed_error.strerror or self._fed_error}"
            )
        if self._digest.hexdigest() != self.checksum:
            raise IntegrityError(
                f"{self.name} does not match its checksum (SHA-256 {self._digest.hexdigest()}, "
                f"expected {self.checksum}): it is damaged and was not uploaded"
            )

    def _age_failure(self, code: int) -> ControllerError:
        said = self.tool.said()
        if "recipient" in said.lower():
            return ConfigurationError(
                f"ENCRYPTION_RECIPIENTS: age refused a recipient ({said}): give age public "
                "keys (age1...) or SSH public keys (ssh-ed25519 ..., ssh-rsa ...)"
            )
        return self.tool.failure(code)
