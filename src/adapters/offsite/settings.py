"""The off-site store's variables: ``OFFSITE_URL`` (an S3 bucket, or a directory: see
:mod:`.file.settings`) and the S3 client's settings, checked strictly; a bad one is a
ConfigurationError that names its variable (never a secret)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlsplit

import attrs

from pg_backup_manager.adapters.env_values import flag, secret
from pg_backup_manager.adapters.offsite.file.settings import FileSettings, file_url
from pg_backup_manager.domain.errors import ConfigurationError

# S3's rules for bucket names (dots break TLS with virtual-hosted addressing only: accepted).
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_SEGMENT = re.compile(r"[A-Za-z0-9_.-]{1,200}")
_REGION = re.compile(r"[a-z0-9-]{1,50}")
# An X25519 recipient is "age1" and 58 bech32 characters; plugin recipients
# (age1yubikey1...) need plugins the controller does not have.
_RECIPIENT = re.compile(
    r"age1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{58}|ssh-(ed25519|rsa) [A-Za-z0-9+/=]{20,}( .*)?"
)
_URL_SHAPE = (
    "OFFSITE_URL must look like s3://<bucket>/<prefix> (e.g. s3://backups/prod) "
    "or file:///<absolute path>"
)
# Whitespace and control characters inside a URL: urlsplit silently drops tabs and
# newlines, so a value holding one would name another place than the one written.
_BLANK_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f-\x9f]")


@attrs.frozen(kw_only=True)
class S3Settings:
    """Where in S3 the copies go and how to reach the store. The secret key is kept out
    of ``repr``; None credentials mean the client library's usual chain."""

    bucket: str
    prefix: str
    endpoint_url: str | None = None
    region: str | None = None
    access_key_id: str | None = attrs.field(default=None, repr=False)
    secret_access_key: str | None = attrs.field(default=None, repr=False)
    force_path_style: bool = False

    @property
    def url(self) -> str:
        """Return ``s3://<bucket>/<prefix>`` for messages."""
        return f"s3://{self.bucket}/{self.prefix}".rstrip("/")


@attrs.frozen(kw_only=True)
class OffsiteSettings:
    """Off-site copies, any backend: where, whether retention prunes them, encryption."""

    place: S3Settings | FileSettings
    retention: bool = True
    recipients: tuple[str, ...] = ()  # age or SSH public keys: uploads are encrypted to them
    identity_file: str | None = None  # the secret keys that decrypt downloads

    @property
    def url(self) -> str:
        """Return OFFSITE_URL as it names the place, for messages."""
        return self.place.url


def offsite(environ: Mapping[str, str]) -> OffsiteSettings | None:
    """Return the off-site settings, or None when ``OFFSITE_URL`` is unset. The S3
    client's variables and the recipients are checked whenever they are set, with
    ``OFFSITE_URL`` or without it: a bad one is not left to wait for the day off-site
    copies are turned on.

    Raises:
        ConfigurationError: a variable is malformed, or only one of the two
            credentials is set.
    """
    endpoint, region_name = endpoint_url(environ), region(environ)
    path_style = flag(environ, "S3_FORCE_PATH_STYLE")
    # Unset keeps the default, true: an empty value is compose's ${VAR} of a missing VAR.
    retention = not environ.get("OFFSITE_RETENTION", "").strip() or flag(
        environ, "OFFSITE_RETENTION"
    )
    keys = recipients(environ)
    text = environ.get("OFFSITE_URL", "").strip()
    if not text:
        return None
    key_id = secret(environ, "AWS_ACCESS_KEY_ID")
    key = secret(environ, "AWS_SECRET_ACCESS_KEY")
    if (key_id is None) != (key is None):
        given, lacking = (
            ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
            if key is None
            else ("AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID")
        )
        raise ConfigurationError(
            f"{given} is set but {lacking} is not: set both (or their _FILE), or neither "
            "to use the S3 client's usual credentials"
        )
    place: S3Settings | FileSettings
    if text.startswith("file:"):  # the S3 variables are checked above, and not used
        place = FileSettings(root=file_url(text))
    else:
        bucket, prefix = offsite_url(text)
        place = S3Settings(
            bucket=bucket,
            prefix=prefix,
            access_key_id=key_id[0].strip() if key_id else None,
            secret_access_key=key[0].strip() if key else None,
            endpoint_url=endpoint,
            region=region_name,
            force_path_style=path_style,
        )
    return OffsiteSettings(
        place=place,
        retention=retention,
        recipients=keys,
        identity_file=environ.get("ENCRYPTION_IDENTITY_FILE", "").strip() or None,
    )


def recipients(environ: Mapping[str, str]) -> tuple[str, ...]:
    """Return ``ENCRYPTION_RECIPIENTS`` (or its ``_FILE``): the public keys uploads are
    encrypted to, one per line or separated by commas (age keys by blanks too; a line that
    starts with an SSH key is that key); ``#`` starts a comment (a whole line, or after a
    key).

    Raises:
        ConfigurationError: a recipient is not an age or SSH public key; or a secret
            key was given as a recipient (it is never repeated).
    """
    found = secret(environ, "ENCRYPTION_RECIPIENTS")
    if found is None:
        return ()
    text, variable = found
    keys: list[str] = []
    for line in text.splitlines():
        line = line.split(" #", 1)[0].strip()  # a comment, whole line or after a key
        if not line or line.startswith("#"):
            continue
        if looks_secret(line):
            raise ConfigurationError(
                f"{variable}: recipient {len(keys) + 1} is a secret key: give its public "
                "key (age-keygen -y); the secret key belongs in ENCRYPTION_IDENTITY_FILE, "
                "on the host that restores"
            )
        # An SSH key's comment may hold commas: a line that starts with one is one key.
        for piece in [line] if line.startswith("ssh-") else line.split(","):
            piece = piece.strip()
            if piece.startswith("ssh-"):
                keys.append(" ".join(piece.split()))
            else:
                keys.extend(piece.split())
    for number, recipient in enumerate(keys, start=1):
        if not _RECIPIENT.fullmatch(recipient):
            raise ConfigurationError(
                f"{variable}: recipient {number} is not an age public key (age1...) or an "
                "SSH public key (ssh-ed25519 AAAA..., ssh-rsa AAAA...)"
            )
    return tuple(keys)


def looks_secret(text: str) -> bool:
    """Return whether ``text`` holds a secret key (age's, or a PEM private key)."""
    return "AGE-SECRET-KEY-" in text.upper() or "PRIVATE KEY" in text.upper()


def offsite_url(text: str) -> tuple[str, str]:
    """Return the bucket and key prefix (without slashes at its ends) of ``text``.

    Raises:
        ConfigurationError: it is not ``s3://<bucket>[/<prefix>]`` with a valid
            bucket name and a prefix of plain segments separated by single ``/``
            (no ``..``, no ``//``, no whitespace or control character anywhere).
            The message names the fault, never the value (it may hold a token).
    """
    if _BLANK_OR_CONTROL.search(text):
        raise ConfigurationError(f"{_URL_SHAPE}: it must not hold whitespace or control characters")
    if "@" in text:
        raise ConfigurationError(
            f"{_URL_SHAPE}: it must not hold credentials (set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY instead)"
        )
    try:
        parts = urlsplit(text)
    except ValueError:
        raise ConfigurationError(f"{_URL_SHAPE}: it is not a URL") from None
    if parts.scheme != "s3":
        raise ConfigurationError(f"{_URL_SHAPE}: it must start with s3://")
    if parts.query or parts.fragment or "?" in text or "#" in text:
        raise ConfigurationError(f"{_URL_SHAPE}: it must not hold a query or a fragment (? or #)")
    if not _BUCKET.fullmatch(parts.netloc) or ".." in parts.netloc:
        raise ConfigurationError(
            f"{_URL_SHAPE}: its bucket name must be 3 to 63 lower-case letters, digits, '.' and '-'"
        )
    path = parts.path.removeprefix("/")
    prefix = path.removesuffix("/")  # one '/' may end it
    for segment in prefix.split("/") if path else []:
        if not _SEGMENT.fullmatch(segment) or segment in {".", ".."}:
            raise ConfigurationError(
                f"{_URL_SHAPE}: its prefix must be segments of letters, digits, "
                "'.', '-' and '_' separated by single '/' (no empty, '.' or '..' segment)"
            )
    return parts.netloc, prefix


def endpoint_url(environ: Mapping[str, str]) -> str | None:
    """Return ``S3_ENDPOINT_URL`` (``http(s)://host[:port]``, a ``/`` may end it) without
    the ``/``, or None when unset.

    Raises:
        ConfigurationError: it is not such a URL: it has a path, a query, a fragment,
            credentials, whitespace or a control character; the message names the
            fault, never the value (it may hold a token).
    """
    text = environ.get("S3_ENDPOINT_URL", "").strip()
    if not text:
        return None
    shape = "S3_ENDPOINT_URL must be http(s)://<host>[:<port>] (e.g. http://minio:9000)"
    if _BLANK_OR_CONTROL.search(text):
        raise ConfigurationError(f"{shape}: it must not hold whitespace or control characters")
    if "@" in text:
        raise ConfigurationError(f"{shape}: it must not hold credentials")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise ConfigurationError(f"{shape}: it is not a URL, or its port is not a number") from None
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ConfigurationError(f"{shape}: it must start with http:// or https:// and a host")
    if "?" in text or "#" in text:
        raise ConfigurationError(f"{shape}: it must not hold a query or a fragment (? or #)")
    if parts.path not in {"", "/"}:
        raise ConfigurationError(f"{shape}: it must not hold a path (the bucket is in OFFSITE_URL)")
    if port == 0:
        raise ConfigurationError(f"{shape}: port 0 is not a port")
    return text.rstrip("/")


def region(environ: Mapping[str, str]) -> str | None:
    """Return ``S3_REGION`` (like ``eu-west-1``), or None when unset."""
    text = environ.get("S3_REGION", "").strip()
    if not text:
        return None
    if not _REGION.fullmatch(text):
        raise ConfigurationError(
            f"S3_REGION must be a region name like eu-west-1 or us-east-1, not '{text}'"
        )
    return text
