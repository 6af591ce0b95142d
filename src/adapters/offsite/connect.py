"""The off-site store OFFSITE_URL names: the off-site core over the bucket of its scheme
(``s3://``: boto3, imported only then; ``file://``: a directory), encrypting with age."""

from __future__ import annotations

from pg_backup_manager.adapters.offsite.age_cipher import AgeCipher
from pg_backup_manager.adapters.offsite.file.settings import FileSettings
from pg_backup_manager.adapters.offsite.settings import OffsiteSettings
from pg_backup_manager.adapters.offsite.store import BucketOffsiteStore
from pg_backup_manager.domain.errors import ConfigurationError


def connect(settings: OffsiteSettings | None) -> BucketOffsiteStore:
    """Return the store ``settings`` describe (nothing is asked of it yet).

    Raises:
        ConfigurationError: OFFSITE_URL is not set.
    """
    if settings is None:
        raise ConfigurationError(
            "OFFSITE_URL is not set: set it to s3://<bucket>/<prefix> (and S3_ENDPOINT_URL "
            "for a service other than AWS), or to file:///<directory>, to keep copies off-site"
        )
    cipher = AgeCipher(recipients=settings.recipients, identity_file=settings.identity_file)
    place = settings.place
    if isinstance(place, FileSettings):
        from pg_backup_manager.adapters.offsite.file.bucket import file_bucket

        return BucketOffsiteStore(bucket=file_bucket(place), cipher=cipher)
    from pg_backup_manager.adapters.offsite.s3.bucket import s3_bucket  # imports boto3

    return BucketOffsiteStore(bucket=s3_bucket(place), cipher=cipher, prefix=place.prefix)
