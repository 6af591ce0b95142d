"""What the operator reads of an S3 client's error: one line, naming the store and what
to check, never a secret."""

from __future__ import annotations

from boto3.exceptions import S3UploadFailedError
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionError,
    HTTPClientError,
    NoCredentialsError,
)

from pg_backup_manager.adapters.offsite.settings import S3Settings
from pg_backup_manager.domain.errors import ConfigurationError, ControllerError

# What the client raises for the store's answers and the network's faults (not our bugs).
S3_ERRORS = (BotoCoreError, ClientError, S3UploadFailedError, OSError)
CREDENTIAL_CODES = {
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "InvalidToken",
    "ExpiredToken",
    "InvalidClientTokenId",
    "AuthorizationHeaderMalformed",
}


def failure(error: BaseException, doing: str, *, settings: S3Settings) -> ControllerError:
    """Return ``error`` of the S3 client, met while ``doing`` something with the store of
    ``settings``, as one line for the operator, with no secret."""
    where = settings.endpoint_url or "AWS S3"
    code = error_code(error)
    if isinstance(error, NoCredentialsError):
        return ConfigurationError(
            "no credentials for the off-site store: set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY (or their _FILE)"
        )
    if isinstance(error, ConnectionError | HTTPClientError):
        return ControllerError(
            f"off-site store unreachable at {where} ({type(error).__name__}) while "
            f"{doing}: check S3_ENDPOINT_URL and the network"
        )
    if code == "NoSuchBucket":
        return ControllerError(
            f"off-site store at {where} has no bucket '{settings.bucket}': create it, "
            "or fix OFFSITE_URL"
        )
    if code in CREDENTIAL_CODES:
        return ControllerError(
            f"off-site store at {where} refused the credentials ({code}) while {doing}: "
            "check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        )
    if code in {"AccessDenied", "403", "Forbidden"}:
        return ControllerError(
            f"off-site store at {where} denied access ({code}) while {doing}: check the "
            "credentials and their rights on the bucket"
        )
    if isinstance(error, ClientError):
        return ControllerError(f"off-site store at {where}: {doing} failed: {code}")
    if isinstance(error, BotoCoreError):
        return ControllerError(f"off-site store at {where}: {doing} failed: {type(error).__name__}")
    if isinstance(error, OSError):
        return ControllerError(f"{doing} failed: {error.strerror or type(error).__name__}")
    return ControllerError(f"{doing} failed: {type(error).__name__}")


def error_code(error: BaseException | None) -> str:
    """Return the S3 error code of ``error`` (``"404"`` for a HEAD), or ``""``."""
    if not isinstance(error, ClientError):
        return ""
    return str(error.response.get("Error", {}).get("Code", ""))
