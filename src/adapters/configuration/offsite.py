"""The variables of off-site copies. They are checked together (the credentials are both
set or neither) by :func:`pg_backup_manager.adapters.offsite.settings.offsite`; here is
what each one is, for ``controller config`` and the README."""

from __future__ import annotations

from typing import Any

from pg_backup_manager.adapters.configuration.variable import Shown, Variable

OFFSITE_URL = Variable[object](
    name="OFFSITE_URL",
    parse=None,
    unset="(off)",
    help="`s3://<bucket>/<prefix>`: keep a copy of every backup in S3-compatible object "
    "storage, under `<prefix>/<service>/` (see [Off-site copies](#off-site-copies)). The "
    "prefix is segments of letters, digits, `.`, `-` and `_` separated by single `/` (one may "
    "end it); an empty segment (`//`), whitespace or a control character anywhere is a "
    "configuration error (exit 2). Credentials never go in it. Or `file:///<absolute path>`: "
    "the same copies in a directory, a NAS share mounted into the container (see [A directory "
    "instead of a bucket](#a-directory-instead-of-a-bucket)); another host than `localhost`, a "
    "relative path, an empty, `.` or `..` segment, and, where it is first used, a path that is "
    "not a directory this user can read (write in, for a command that writes off-site), or "
    "that other users can write in: exit 2.",
)
S3_ENDPOINT_URL = Variable[object](
    name="S3_ENDPOINT_URL",
    parse=None,
    unset="AWS S3",
    shown=Shown.URL,
    help="`http(s)://host[:port]` of another S3-compatible service (MinIO, SeaweedFS, Ceph "
    "RGW, Garage, Cloudflare R2, Backblaze B2...); a `/` may end it. A path, query, fragment, "
    "credentials, whitespace or control character is a configuration error (exit 2).",
)
S3_REGION = Variable[object](
    name="S3_REGION",
    parse=None,
    unset="`us-east-1`",
    help="The bucket's region.",
)
_CREDENTIALS = "Neither: boto3's own chain (`~/.aws`, an instance or task role, web identity)."
AWS_ACCESS_KEY_ID = Variable[object](
    name="AWS_ACCESS_KEY_ID",
    parse=None,
    unset="the S3 client's usual chain",
    shown=Shown.SECRET,
    from_file=True,
    help=f"The store's access key: set both it and `AWS_SECRET_ACCESS_KEY`, or neither. "
    f"{_CREDENTIALS}",
)
AWS_SECRET_ACCESS_KEY = Variable[object](
    name="AWS_SECRET_ACCESS_KEY",
    parse=None,
    unset="the S3 client's usual chain",
    shown=Shown.SECRET,
    from_file=True,
    help=f"The store's secret key: set both it and `AWS_ACCESS_KEY_ID`, or neither. {_CREDENTIALS}",
)
S3_FORCE_PATH_STYLE = Variable[object](
    name="S3_FORCE_PATH_STYLE",
    parse=None,
    default="false",
    help="`true`: address the bucket as `endpoint/bucket/key` instead of "
    "`bucket.endpoint/key` (MinIO, SeaweedFS, Garage and most self-hosted services need it).",
)
OFFSITE_RETENTION = Variable[object](
    name="OFFSITE_RETENTION",
    parse=None,
    default="true",
    help="`false`: never delete an off-site copy (for buckets with their own lifecycle rules "
    "or object lock).",
)
ENCRYPTION_RECIPIENTS = Variable[object](
    name="ENCRYPTION_RECIPIENTS",
    parse=None,
    unset="(off: off-site copies are not encrypted)",
    shown=Shown.PUBLIC_KEYS,
    from_file=True,
    help="age public keys (`age1...`) or SSH public keys (`ssh-ed25519 ...`, `ssh-rsa ...`), "
    "one per line or separated by commas; lines starting with `#` are comments. Set: what "
    "goes off-site is encrypted to every one of them.",
)
ENCRYPTION_IDENTITY_FILE = Variable[object](
    name="ENCRYPTION_IDENTITY_FILE",
    parse=None,
    unset="(none: encrypted copies cannot be restored here)",
    help="A file with age secret keys (`AGE-SECRET-KEY-1...`, as `age-keygen` writes them) or "
    "an SSH private key without passphrase: needed only to restore or verify an encrypted "
    "off-site copy, so it need not be on the host that makes backups.",
)
# In the order `controller config` prints them, after monitoring's.
VARIABLES: tuple[Variable[Any], ...] = (
    OFFSITE_URL,
    S3_ENDPOINT_URL,
    S3_REGION,
    AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY,
    S3_FORCE_PATH_STYLE,
    OFFSITE_RETENTION,
    ENCRYPTION_RECIPIENTS,
    ENCRYPTION_IDENTITY_FILE,
)
