"""What may be shown of secret-bearing settings: notification and ping URLs (in `config`
and in warnings), the errors of sending to them, and malformed off-site settings; and
what must not be hidden: off-site locations in a notification's text.

Apprise is real here: it parses URLs in pure Python, with no network.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pg_backup_manager.adapters.config_report import effective
from pg_backup_manager.adapters.monitoring.notifications import deliver, message
from pg_backup_manager.adapters.monitoring.redaction import error_text, notify_url
from pg_backup_manager.adapters.offsite.settings import offsite
from pg_backup_manager.adapters.settings import Settings
from pg_backup_manager.domain.errors import ConfigurationError
from pg_backup_manager.domain.history import Operation, Outcome, RunRecord

NOW = datetime(2024, 7, 4, 9, 0, tzinfo=UTC)
# Each Apprise URL form, with the parts of it that are secret.
NOTIFY_URLS = [
    ("tgram://123456789:AAHsecretBotToken42xyz/987654321", ["secretBotToken42", "123456789:"]),
    ("json://hooks.example/path?+Authorization=Bearer%20hdr-secret-9f", ["hdr-secret-9f"]),
    (
        "pover://usersecretkey0123456789abcdefgh@appsecrettoken0123456789abcde",
        ["usersecretkey", "appsecrettoken"],
    ),
    ("pbul://o.accesssecrettoken0123456789abc", ["accesssecrettoken"]),
    ("json://user:pw-secret-11@hooks.example/hook/path-secret-22", ["pw-secret-11", "secret-22"]),
    ("ntfys://ntfy.sh/topic?token=tk_secret33", ["tk_secret33"]),
]
PING_URLS = [
    ("https://hc-ping.com/0d8e2b3c-uuid-secret-44", "https://hc-ping.com/…"),
    ("https://hc.example/ping?check=uuid-secret-44", "https://hc.example/…"),
    ("https://user:pw-secret-44@hc.example:8443/ping/x", "https://hc.example:8443/…"),
]


def failure(error: str = "password authentication failed") -> RunRecord:
    return RunRecord(
        operation=Operation.DUMP,
        started_at=NOW,
        finished_at=NOW,
        outcome=Outcome.FAILURE,
        error=error,
    )


def shown(environ: dict[str, str], variable: str, identifiers: tuple[str, ...] = ()) -> str:
    [entry] = [e for e in effective(environ, identifiers) if e.variable == variable]
    return entry.value


@pytest.mark.parametrize(("url", "secrets"), NOTIFY_URLS)
def test_config_shows_each_notify_url_by_its_service_without_any_token(
    url: str, secrets: list[str]
) -> None:
    value = shown({"NOTIFY_URLS": f"{url}, json://127.0.0.1:9/"}, "NOTIFY_URLS")

    assert [s for s in secrets if s in value] == [], value
    assert value.startswith(url.split("://")[0] + "://"), value
    assert value.endswith(", json://127.0.0.1:9"), value


@pytest.mark.parametrize(("url", "secrets"), NOTIFY_URLS)
def test_a_shown_notify_url_holds_no_token(url: str, secrets: list[str]) -> None:
    assert [s for s in secrets if s in notify_url(url)] == []


def test_a_notify_url_apprise_cannot_use_is_shown_by_its_scheme_alone() -> None:
    invalid = "… (invalid: Apprise cannot use it)"

    assert notify_url("tgram://not-a-bot-secret55/123") == f"tgram://{invalid}"
    assert notify_url("no-scheme-secret55") == invalid


@pytest.mark.parametrize(("url", "expected"), PING_URLS)
def test_config_shows_a_ping_url_by_its_host_alone(url: str, expected: str) -> None:
    environ = {"HEALTHCHECKS_URL": url, "A_HEALTHCHECKS_URL": url}

    assert shown(environ, "HEALTHCHECKS_URL") == expected
    assert shown(environ, "A_HEALTHCHECKS_URL", ("a",)) == expected


def test_could_not_notify_names_no_token_of_a_url_apprise_cannot_use(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # What the sending child process does (endpoints.send): here, in this process.
    request = {"kind": "notify", "identifier": "a", "urls": ["tgram://not-a-bot-secret55/123"]}
    title, body = message("a", failure())

    deliver(request | {"title": title, "body": body})

    assert "could not notify tgram://" in caplog.text
    assert "secret55" not in caplog.text


def test_a_failed_ping_names_no_part_of_its_url_but_the_host(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    # No scheme: requests refuses it before any connection, quoting the URL.
    # What the sending child process does (endpoints.send): here, in this process.
    deliver({"kind": "ping", "url": "hc-ping.com/uuid-secret-44/start", "body": ""})

    assert "could not ping" in caplog.text
    assert "uuid-secret-44" not in caplog.text


def test_an_error_of_the_http_library_is_told_without_its_url() -> None:
    import requests

    error = requests.ConnectionError(
        "HTTPConnectionPool(host='127.0.0.1', port=9): Max retries exceeded with url: "
        "/uuid-secret-44/start (Caused by NewConnectionError('Connection refused'))"
    )

    told = error_text(error, secrets=("http://127.0.0.1:9/uuid-secret-44",))

    assert "uuid-secret-44" not in told
    assert told.startswith("ConnectionError: ") and "Connection refused" in told


def test_an_error_that_quotes_a_configured_url_is_told_without_it() -> None:
    error = ValueError("Invalid URL 'hc.example/uuid-secret-44/start': No scheme supplied")

    told = error_text(error, secrets=("hc.example/uuid-secret-44",))

    assert "uuid-secret-44" not in told and "No scheme supplied" in told


def test_a_notification_names_an_off_site_location_whole() -> None:
    error = (
        "off-site store unreachable at http://127.0.0.1:9 (EndpointConnectionError) "
        "while listing s3://backups/prod/orders/: check S3_ENDPOINT_URL and the network"
    )

    _, body = message("orders", failure(error))

    assert f"error: {error}" in body


def test_a_notification_still_hides_credentials_inside_a_url() -> None:
    _, body = message("orders", failure("cannot reach json://user:pw-secret-11@hooks.example/x"))

    assert "pw-secret-11" not in body and "hooks.example/x" in body


@pytest.mark.parametrize(
    ("variable", "value", "secret"),
    [
        ("OFFSITE_URL", "s3://backups/prod?token=SECRET-q1", "SECRET-q1"),
        ("OFFSITE_URL", "s3://backups/prod#SECRET-f2", "SECRET-f2"),
        ("OFFSITE_URL", "https://backups/prod?X-Amz-Signature=SECRET-s3", "SECRET-s3"),
        ("OFFSITE_URL", "s3://AKIAKEY:SECRET-k4/prod", "SECRET-k4"),
        ("OFFSITE_URL", "s3://backups/SECRET-p5 x", "SECRET-p5"),
        ("S3_ENDPOINT_URL", "http://minio:9000/?token=SECRET-e6", "SECRET-e6"),
        ("S3_ENDPOINT_URL", "ftp://minio/SECRET-e7", "SECRET-e7"),
        ("S3_ENDPOINT_URL", "http://minio:99999999/SECRET-e8", "SECRET-e8"),
        ("S3_ENDPOINT_URL", "http://minio:9000/SECRET-e9", "SECRET-e9"),
        ("S3_ENDPOINT_URL", "http://minio:9000/\nSECRET-e10", "SECRET-e10"),
        ("OFFSITE_URL", "s3://backups//SECRET-p6", "SECRET-p6"),
        ("OFFSITE_URL", "s3://backups/nl\nSECRET-p7", "SECRET-p7"),
    ],
)
def test_a_malformed_off_site_setting_names_its_variable_and_fault_never_its_value(
    variable: str, value: str, secret: str
) -> None:
    environ = {"OFFSITE_URL": "s3://backups/prod", variable: value}

    with pytest.raises(ConfigurationError) as raised:
        offsite(environ)

    assert variable in str(raised.value)
    assert secret not in str(raised.value)


@pytest.mark.parametrize("variable", ["HEALTHCHECKS_URL", "USERS_HEALTHCHECKS_URL"])
@pytest.mark.parametrize(
    "value",
    ["hc-ping.com/uuid-secret-44", "ftp://hc.example/uuid-secret-44", "https:///uuid-secret-44"],
)
def test_a_ping_url_that_is_not_http_is_refused_naming_its_variable_not_its_value(
    variable: str, value: str
) -> None:
    with pytest.raises(ConfigurationError) as raised:
        Settings.from_environ({"DATABASE_LIST": "users", variable: value}, cwd=Path("/srv"))

    assert str(raised.value).startswith(f"{variable} must be")
    assert "uuid-secret-44" not in str(raised.value)
