"""OFFSITE_URL and the S3 client's variables: strict, and never echoing a secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from pg_backup_manager.adapters.offsite.file.settings import FileSettings
from pg_backup_manager.adapters.offsite.settings import S3Settings, offsite_url
from pg_backup_manager.adapters.settings import Settings
from pg_backup_manager.domain.errors import ConfigurationError

CWD = Path("/srv/app")


def settings(**environ: str) -> Settings:
    return Settings.from_environ({"DATABASE_LIST": "users", **environ}, cwd=CWD)


def test_without_offsite_url_there_is_no_off_site_store() -> None:
    assert settings().offsite is None


@pytest.mark.parametrize(
    ("url", "bucket", "prefix"),
    [
        ("s3://backups/prod", "backups", "prod"),
        ("s3://backups/prod/eu/", "backups", "prod/eu"),
        ("s3://backups", "backups", ""),
        ("s3://my.bucket-1/a_b.c-d", "my.bucket-1", "a_b.c-d"),
    ],
)
def test_offsite_url_gives_the_bucket_and_the_prefix(url: str, bucket: str, prefix: str) -> None:
    assert offsite_url(url) == (bucket, prefix)


@pytest.mark.parametrize(
    "url",
    [
        "backups/prod",
        "https://backups/prod",
        "s3:/backups/prod",
        "s3:///prod",
        "s3://Backups/prod",
        "s3://ab/prod",
        "s3://under_score/prod",
        "s3://backups/../other",
        "s3://backups/a//b",
        "s3://backups/./a",
        "s3://backups/pro d",
        "s3://backups/prod?versionId=1",
        "s3://backups/prod#x",
        "s3://backups//prod",
        "s3://backups/prod//eu",
        "s3://backups//",
        "s3://backups/prod/eu//",
        "s3://backups/nl\nq",
        "s3://backups/tab\tq",
        "s3://backups/cr\rq",
        "s3://back\nups/prod",
        "s3://backups/nul\x00q",
        "s3://backups/nbsp\xa0q",
    ],
)
def test_a_malformed_offsite_url_is_a_configuration_error(url: str) -> None:
    with pytest.raises(ConfigurationError, match="OFFSITE_URL"):
        settings(OFFSITE_URL=url)


@pytest.mark.parametrize(
    ("url", "fault"),
    [
        ("s3://backups//TOKEN-1", "separated by single '/'"),
        ("s3://backups/nl\nTOKEN-1", "whitespace or control characters"),
    ],
)
def test_an_offsite_url_with_an_empty_segment_or_a_control_character_names_the_fault(
    url: str, fault: str
) -> None:
    with pytest.raises(ConfigurationError) as raised:
        settings(OFFSITE_URL=url)

    assert str(raised.value).startswith("OFFSITE_URL must look like s3://")
    assert fault in str(raised.value)
    assert "TOKEN-1" not in str(raised.value)


def test_an_offsite_url_with_credentials_is_refused_without_repeating_them() -> None:
    with pytest.raises(ConfigurationError) as raised:
        settings(OFFSITE_URL="s3://AKIAEXAMPLE:topsecret@backups/prod")

    assert "topsecret" not in str(raised.value)
    assert "AKIAEXAMPLE" not in str(raised.value)


def test_the_s3_variables_are_read_with_their_defaults() -> None:
    offsite = settings(OFFSITE_URL="s3://backups/prod").offsite

    assert offsite is not None and isinstance(store := offsite.place, S3Settings)
    assert (store.bucket, store.prefix, store.endpoint_url, store.region) == (
        "backups",
        "prod",
        None,
        None,
    )
    assert (store.access_key_id, store.secret_access_key) == (None, None)
    assert (store.force_path_style, offsite.retention) == (False, True)


def test_the_s3_variables_are_read(tmp_path: Path) -> None:
    key_file = tmp_path / "secret-key"
    key_file.write_text("the-secret\n")

    offsite = settings(
        OFFSITE_URL="s3://backups/prod",
        S3_ENDPOINT_URL="http://minio:9000/",
        S3_REGION="eu-west-1",
        AWS_ACCESS_KEY_ID="the-id",
        AWS_SECRET_ACCESS_KEY_FILE=str(key_file),
        S3_FORCE_PATH_STYLE="true",
        OFFSITE_RETENTION="false",
    ).offsite

    assert offsite is not None and isinstance(store := offsite.place, S3Settings)
    assert (store.endpoint_url, store.region) == ("http://minio:9000", "eu-west-1")
    assert (store.access_key_id, store.secret_access_key) == ("the-id", "the-secret")
    assert (store.force_path_style, offsite.retention) == (True, False)
    assert "the-secret" not in repr(offsite) and "the-id" not in repr(offsite)


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"AWS_ACCESS_KEY_ID": "id"}, "AWS_SECRET_ACCESS_KEY is not"),
        ({"AWS_SECRET_ACCESS_KEY": "key"}, "AWS_ACCESS_KEY_ID is not"),
        ({"S3_ENDPOINT_URL": "minio:9000"}, "S3_ENDPOINT_URL"),
        ({"S3_ENDPOINT_URL": "ftp://minio"}, "S3_ENDPOINT_URL"),
        ({"S3_ENDPOINT_URL": "http://minio:notaport"}, "S3_ENDPOINT_URL"),
        ({"S3_ENDPOINT_URL": "http://minio:9000/bucket"}, "S3_ENDPOINT_URL"),
        ({"S3_ENDPOINT_URL": "http://minio:9000//"}, "S3_ENDPOINT_URL"),
        ({"S3_ENDPOINT_URL": "http://minio:9000#"}, "S3_ENDPOINT_URL"),
        ({"S3_ENDPOINT_URL": "http://minio:9000/?"}, "S3_ENDPOINT_URL"),
        ({"S3_ENDPOINT_URL": "http://mi\nnio:9000"}, "S3_ENDPOINT_URL"),
        ({"S3_ENDPOINT_URL": "http://minio:9000\t/"}, "S3_ENDPOINT_URL"),
        ({"S3_ENDPOINT_URL": "http://mi nio:9000"}, "S3_ENDPOINT_URL"),
        ({"S3_REGION": "EU West"}, "S3_REGION"),
        ({"S3_FORCE_PATH_STYLE": "maybe"}, "S3_FORCE_PATH_STYLE"),
        ({"OFFSITE_RETENTION": "sometimes"}, "OFFSITE_RETENTION"),
    ],
)
def test_bad_s3_settings_name_their_variable(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        settings(OFFSITE_URL="s3://backups/prod", **environ)


@pytest.mark.parametrize(
    ("url", "taken"),
    [
        ("http://minio:9000", "http://minio:9000"),
        ("http://minio:9000/", "http://minio:9000"),
        ("https://s3.eu-west-1.amazonaws.com", "https://s3.eu-west-1.amazonaws.com"),
        ("http://[::1]:9000", "http://[::1]:9000"),
    ],
)
def test_an_endpoint_is_a_scheme_a_host_and_a_port_alone(url: str, taken: str) -> None:
    offsite = settings(OFFSITE_URL="s3://backups/prod", S3_ENDPOINT_URL=url).offsite

    assert offsite is not None and isinstance(offsite.place, S3Settings)
    assert offsite.place.endpoint_url == taken


@pytest.mark.parametrize(
    ("url", "fault"),
    [
        ("http://127.0.0.1:31303/EPSECRET3", "path"),
        ("http://127.0.0.1:31303/EPSECRET3/", "path"),
        ("http://127.0.0.1:31303/\nEPSECRET3", "whitespace or control characters"),
        ("http://127.0.0.1:31303#EPSECRET3", "query or a fragment"),
    ],
)
def test_an_endpoint_with_a_path_or_a_control_character_is_refused_without_repeating_it(
    url: str, fault: str
) -> None:
    with pytest.raises(ConfigurationError) as raised:
        settings(OFFSITE_URL="s3://backups/prod", S3_ENDPOINT_URL=url)

    assert str(raised.value).startswith("S3_ENDPOINT_URL must be http(s)://<host>[:<port>]")
    assert fault in str(raised.value)
    assert "EPSECRET3" not in str(raised.value)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("S3_FORCE_PATH_STYLE", "banana"),
        ("OFFSITE_RETENTION", "banana"),
        ("S3_ENDPOINT_URL", "http://minio:9000/banana"),
        ("S3_REGION", "Banana Land"),
        ("ENCRYPTION_RECIPIENTS", "banana"),
    ],
)
def test_an_off_site_variable_is_checked_even_without_offsite_url(
    variable: str, value: str
) -> None:
    with pytest.raises(ConfigurationError, match=f"^{variable}"):
        settings(**{variable: value})


def test_a_secret_key_as_recipient_is_refused_unrepeated_even_without_offsite_url() -> None:
    secret = "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX"

    with pytest.raises(ConfigurationError) as raised:
        settings(ENCRYPTION_RECIPIENTS=secret)

    assert str(raised.value).startswith("ENCRYPTION_RECIPIENTS: recipient 1 is a secret key")
    assert "GFPYYSJZ" not in str(raised.value)


def test_well_formed_off_site_variables_without_offsite_url_leave_off_site_off() -> None:
    found = settings(
        S3_FORCE_PATH_STYLE="true",
        OFFSITE_RETENTION="false",
        S3_ENDPOINT_URL="http://minio:9000",
        ENCRYPTION_RECIPIENTS=AGE_KEY,
    )

    assert found.offsite is None


def test_an_endpoint_with_credentials_is_refused_without_repeating_them() -> None:
    with pytest.raises(ConfigurationError) as raised:
        settings(OFFSITE_URL="s3://backups/prod", S3_ENDPOINT_URL="http://id:hunter2@minio:9000")

    assert "hunter2" not in str(raised.value)


AGE_KEY = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"
SSH_KEY = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHsKLqeplhpuf0ORmfLDjDGp2ol6pJv2vkNEmIKgIu0h ops@host"
)


def test_recipients_are_read_one_per_line_or_by_commas_with_comments(tmp_path: Path) -> None:
    listed = tmp_path / "recipients.txt"
    listed.write_text(f"# the operators\n{AGE_KEY}\n\n{SSH_KEY}\n")

    from_file = settings(OFFSITE_URL="s3://bkt/p", ENCRYPTION_RECIPIENTS_FILE=str(listed)).offsite
    inline = settings(
        OFFSITE_URL="s3://bkt/p", ENCRYPTION_RECIPIENTS=f"{AGE_KEY}, {SSH_KEY}"
    ).offsite
    blanks = settings(
        OFFSITE_URL="s3://bkt/p", ENCRYPTION_RECIPIENTS=f"{AGE_KEY} {AGE_KEY}"
    ).offsite

    assert from_file is not None and from_file.recipients == (AGE_KEY, SSH_KEY)
    assert inline is not None and inline.recipients == (AGE_KEY, SSH_KEY)
    assert blanks is not None and blanks.recipients == (AGE_KEY, AGE_KEY)


def test_without_recipients_nothing_is_encrypted_and_the_identity_is_only_a_path() -> None:
    found = settings(OFFSITE_URL="s3://bkt/p", ENCRYPTION_IDENTITY_FILE="/run/secrets/age").offsite

    assert found is not None
    assert found.recipients == ()
    assert found.identity_file == "/run/secrets/age"  # read only when a copy is decrypted


@pytest.mark.parametrize(
    "text",
    ["age1short", "ssh-dss AAAAB3NzaC1kc3MAAACBAP", "not-a-key", "-----BEGIN PUBLIC KEY-----"],
)
def test_a_recipient_that_is_not_a_public_key_is_refused_by_its_number(text: str) -> None:
    with pytest.raises(ConfigurationError) as error:
        settings(OFFSITE_URL="s3://bkt/p", ENCRYPTION_RECIPIENTS=f"{AGE_KEY},{text}")

    assert "ENCRYPTION_RECIPIENTS: recipient 2 is not an age public key" in str(error.value)
    assert text not in str(error.value)


@pytest.mark.parametrize(
    "text",
    [
        "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX",
        "-----BEGIN OPENSSH PRIVATE KEY-----",
    ],
)
def test_a_secret_key_given_as_a_recipient_is_refused_and_never_repeated(
    tmp_path: Path, text: str
) -> None:
    listed = tmp_path / "recipients.txt"
    listed.write_text(f"{AGE_KEY}\n{text}\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n")

    with pytest.raises(ConfigurationError) as error:
        settings(OFFSITE_URL="s3://bkt/p", ENCRYPTION_RECIPIENTS_FILE=str(listed))

    assert "ENCRYPTION_RECIPIENTS_FILE: recipient 2 is a secret key" in str(error.value)
    assert text not in str(error.value)


def test_comments_may_follow_keys_and_hold_commas_and_ssh_comments_may_too(
    tmp_path: Path,
) -> None:
    listed = tmp_path / "recipients.txt"
    listed.write_text(
        f"# prod keys: laptop, server\n{AGE_KEY}  # laptop\n"
        f"ssh-ed25519\tAAAAC3NzaC1lZDI1NTE5AAAAIHsKLqeplhpuf0ORmfLDjDGp2ol6pJv2vkNEmIKgIu0h a, b\n"
    )

    found = settings(OFFSITE_URL="s3://bkt/p", ENCRYPTION_RECIPIENTS_FILE=str(listed)).offsite

    assert found is not None
    assert found.recipients == (
        AGE_KEY,
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHsKLqeplhpuf0ORmfLDjDGp2ol6pJv2vkNEmIKgIu0h a, b",
    )


@pytest.mark.parametrize(
    "text",
    [
        "age1yubikey1qwt50d05nh5vutpdzmlg5wn80xq5negm4uj9ghv0snvdd3yysf5yw3rhl3t",  # a plugin's
        "age1" + "b" * 58,  # b is not a bech32 character
        AGE_KEY.upper(),
    ],
)
def test_recipients_age_cannot_use_here_are_refused(text: str) -> None:
    with pytest.raises(ConfigurationError, match="recipient 1 is not an age public key"):
        settings(OFFSITE_URL="s3://bkt/p", ENCRYPTION_RECIPIENTS=text)


def test_config_never_shows_a_secret_key_given_as_recipients_even_without_offsite_url() -> None:
    from pg_backup_manager.adapters.config_report import effective

    secret = "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX"
    shown = {
        entry.variable: entry.value
        for entry in effective({"ENCRYPTION_RECIPIENTS": f"{AGE_KEY}\n{secret}"}, ())
    }

    assert shown["ENCRYPTION_RECIPIENTS"] == "***"


@pytest.mark.parametrize(
    ("url", "root"),
    [
        ("file:///mnt/nas/backups", "/mnt/nas/backups"),
        ("file:///mnt/nas/backups/", "/mnt/nas/backups"),
        ("file://localhost/mnt/nas", "/mnt/nas"),
        ("file:///mnt/my%20share", "/mnt/my share"),
    ],
)
def test_a_file_url_names_an_absolute_directory(url: str, root: str) -> None:
    offsite = settings(OFFSITE_URL=url).offsite

    assert offsite is not None and offsite.place == FileSettings(root=root)
    assert offsite.url == f"file://{root}"


@pytest.mark.parametrize(
    ("url", "fault"),
    [
        ("file://nas/backups", "its host must be empty"),
        ("file:backups", "a relative path"),
        ("file:/backups", "a relative path"),
        ("file:///mnt//nas", "empty, '.' or '..' segment"),
        ("file:///mnt/../etc", "empty, '.' or '..' segment"),
        ("file:///mnt/nas?x=1", "query or a fragment"),
        ("file:///mnt/n\nas", "whitespace or control characters"),
        ("file:///mnt/%0a", "control characters"),
    ],
)
def test_a_malformed_file_url_names_offsite_url_and_the_fault(url: str, fault: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        settings(OFFSITE_URL=url)

    assert str(raised.value).startswith("OFFSITE_URL must look like file:///")
    assert fault in str(raised.value)


def test_the_s3_variables_are_not_needed_for_a_directory() -> None:
    offsite = settings(OFFSITE_URL="file:///mnt/nas", OFFSITE_RETENTION="false").offsite

    assert offsite is not None and isinstance(offsite.place, FileSettings)
    assert offsite.retention is False
