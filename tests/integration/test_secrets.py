"""The secrets in notification and ping URLs and in the off-site settings never reach the
operator's terminal: not through `config`, not through a failed notification or ping,
not through a configuration error. (Passwords are checked by every run: see process.py.)

No PostgreSQL server is needed: the databases point at a port nothing listens on.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .process import Controller, Run, assert_one_line_error
from .receiver import free_port, receiving
from .running import spawn, stop, wait_until
from .servers import DEAD_PORT, PG_A

pytestmark = pytest.mark.integration

# Apprise URLs of each form, and the secret in each.
NOTIFY_URLS = {
    "tgram://123456789:AAHsecretBotToken42xyz/987654321": "secretBotToken42",
    "json://hooks.example/path?+Authorization=Bearer%20hdr-secret-9f": "hdr-secret-9f",
    "pover://usersecretkey0123456789abcdefgh@appsecrettoken0123456789abcde": "secrettoken",
    "pbul://o.accesssecrettoken0123456789abc": "accesssecret",
    "ntfys://ntfy.sh/topic?token=tk_secret33": "tk_secret33",
}


def assert_no_secret(run: Run | str, secrets: list[str]) -> None:
    text = run.output if isinstance(run, Run) else run
    assert [secret for secret in secrets if secret in text] == [], run


def test_config_shows_each_notify_and_ping_url_without_its_tokens(controller: Controller) -> None:
    controller.add_database("a", PG_A)
    controller.env["NOTIFY_URLS"] = ", ".join(NOTIFY_URLS)
    controller.env["HEALTHCHECKS_URL"] = "https://hc.example/ping/uuid-secret-88?k=q-secret-99"
    controller.env["A_HEALTHCHECKS_URL"] = "https://user:pw-secret-77@hc.example/uuid-secret-66"

    run = controller("config")

    assert run.returncode == 0, run
    secrets = [*NOTIFY_URLS.values(), "secret-88", "secret-99", "secret-77", "secret-66"]
    assert_no_secret(run, secrets)
    [notify] = [line for line in run.stdout.splitlines() if line.startswith("NOTIFY_URLS ")]
    for scheme in ("tgram://", "json://hooks.example", "pover://", "pbul://", "ntfys://"):
        assert scheme in notify, notify
    lines = [line.split() for line in run.stdout.splitlines()]
    assert ["HEALTHCHECKS_URL", "https://hc.example/…", "[environment]"] in lines
    assert ["A_HEALTHCHECKS_URL", "https://hc.example/…", "[environment]"] in lines


def test_a_failed_notification_of_a_dump_is_told_without_its_tokens(
    controller: Controller,
) -> None:
    controller.add_database("a", PG_A, port=DEAD_PORT)
    refused = free_port()
    controller.env["NOTIFY_URLS"] = (
        f"json://user:pw-secret-11@127.0.0.1:{refused}/hook-secret-22"
        "?+Authorization=Bearer%20hdr-secret-33, tgram://not-a-bot-secret-44/1"
    )

    run = controller("dump", "a")

    assert run.returncode == 1, run
    assert f"a: could not notify json://user:****@127.0.0.1:{refused}/…, tgram://…" in run.stderr
    assert_no_secret(run, ["secret-11", "secret-22", "secret-33", "secret-44"])


def test_failed_pings_and_notifications_of_a_scheduled_run_are_told_without_the_check_uuid(
    controller: Controller, tmp_path: Path
) -> None:
    root = tmp_path / "var-lib-postgresql"
    (root / "backup" / "data").mkdir(parents=True)
    refused = free_port()
    with receiving() as receiver:
        controller.add_database("a", PG_A, port=DEAD_PORT)
        controller.env.update(
            MODE="production",
            BACKUP_SCHEDULE="0 0 1 1 *",
            BACKUP_ON_START="true",
            HEALTHCHECKS_URL=f"http://127.0.0.1:{refused}/uuid-secret-55",
            # Pinged after HEALTHCHECKS_URL: once it is heard, that one has been tried.
            A_HEALTHCHECKS_URL=receiver.url("/hc-a"),
            NOTIFY_URLS=f"json://127.0.0.1:{refused}/x?+Authorization=Bearer%20hdr-secret-66",
        )
        process = spawn(controller, "start", namespace_root=root)
        try:
            wait_until(lambda: "/hc-a/fail" in receiver.paths(), 60, "the run's last ping")
        finally:
            code, out, err = stop(process)

    assert code == 0, err
    assert f"could not ping http://127.0.0.1:{refused}/…" in err
    assert "ping of" in err and "failed: ConnectionError: " in err
    assert f"a: could not notify json://127.0.0.1:{refused}/…" in err
    assert_no_secret(out + err, ["secret-55", "secret-66"])


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("OFFSITE_URL", "s3://offsite-it/prod?token=SECRET-q1"),
        ("OFFSITE_URL", "https://offsite-it/prod?X-Amz-Signature=SECRET-s2"),
        ("OFFSITE_URL", "s3://AKIAKEY:SECRET-k3/prod"),
        ("S3_ENDPOINT_URL", "http://127.0.0.1:9000/?X-Amz-Security-Token=SECRET-e4"),
        ("S3_ENDPOINT_URL", "http://user:SECRET-e5@127.0.0.1:9000"),
        ("S3_ENDPOINT_URL", "http://127.0.0.1:9000/SECRET-e6"),
        ("S3_ENDPOINT_URL", "http://127.0.0.1:9000/\nSECRET-e7"),
        ("OFFSITE_URL", "s3://offsite-it//SECRET-d8"),
        ("OFFSITE_URL", "s3://offsite-it/nl\nSECRET-n9"),
        ("HEALTHCHECKS_URL", "hc-ping.com/SECRET-h6"),
        ("A_HEALTHCHECKS_URL", "ftp://hc.example/SECRET-h7"),
    ],
)
@pytest.mark.parametrize("command", [("config",), ("dump", "a")])
def test_a_malformed_url_setting_exits_2_naming_its_variable_never_its_value(
    controller: Controller, variable: str, value: str, command: tuple[str, ...]
) -> None:
    controller.add_database("a", PG_A, port=DEAD_PORT)
    controller.env.update({"OFFSITE_URL": "s3://offsite-it/prod", variable: value})

    run = controller(*command)

    assert_one_line_error(run, 2)
    assert f"error: {variable} must" in run.stderr
    assert_no_secret(run, ["SECRET"])
    assert controller.backups("a") == []
