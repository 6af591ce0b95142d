"""The variables that tell people about runs: notifications, pings, metrics, freshness."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from pg_backup_manager.adapters.configuration.variable import Shown, Variable
from pg_backup_manager.adapters.env_values import (
    boolean,
    choice,
    optional,
    port,
    seconds,
    url_list,
)
from pg_backup_manager.domain.errors import ConfigurationError

# BACKUP_MAX_AGE: its default is twice the longest gap of the schedule, two years
# for @yearly; ten years leave room for any schedule one would keep.
MAX_AGE_SECONDS = 3650 * 86400.0


def ping_url(text: str, variable: str) -> str:
    """Return ping URL ``text`` without the slash at its end.

    Raises:
        ConfigurationError: it is not ``http(s)://<host>...``; the message never
            repeats the value (its path is the check's token).
    """
    url = text.strip().rstrip("/")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (a port that is not a number raises here)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ConfigurationError(
            f"{variable} must be an http:// or https:// URL with a host "
            "(e.g. https://hc-ping.com/<uuid>); its value is not shown"
        )
    return url


def ip_address(text: str, variable: str) -> str:
    """Return ``text``, an IPv4 or IPv6 address literal.

    A host name is refused: it would be looked up only when the scheduler starts
    serving, and fail there, after ``config`` said all was well.

    Raises:
        ConfigurationError: it is not an IP address.
    """
    text = text.strip()
    try:
        ipaddress.ip_address(text)
    except ValueError:
        raise ConfigurationError(
            f"{variable} must be an IP address, such as 127.0.0.1, 0.0.0.0 (every IPv4 "
            f"address), ::1 or :: (every address), not {' '.join(text.split())!r}"
        ) from None
    return text


BACKUP_MAX_AGE = Variable(
    name="BACKUP_MAX_AGE",
    parse=optional(seconds(minimum=60, maximum=MAX_AGE_SECONDS)),
    unset="for each service, twice the longest gap between consecutive runs of its schedule "
    "(`<SERVICE>_BACKUP_SCHEDULE`, else `BACKUP_SCHEDULE`) over the next year (at least the "
    "next two runs): 12 h by default, 14 days for `@weekly`, 62 for `@monthly`, 8 years for a "
    "leap day's `0 0 29 2 *`; the wait for the next run is no gap, so the default does not "
    "change as time passes",
    help="Seconds (60 to 315360000, 10 years) a database's newest backup may be old before "
    "`health` says it is at fault. Set, it applies to every service but one with "
    "`<SERVICE>_BACKUP_MAX_AGE`.",
)
BACKUP_ON_START = Variable(
    name="BACKUP_ON_START",
    parse=boolean,
    default="false",
    help="`true`: the scheduler backs up every database as soon as it starts.",
)
NOTIFY_URLS = Variable(
    name="NOTIFY_URLS",
    parse=url_list,
    shown=Shown.NOTIFY,
    from_file=True,
    help="Apprise URLs (comma or space separated) that hear of runs: Slack, Discord, "
    "Telegram, Matrix, ntfy, e-mail, `json://` and `form://` webhooks, and more.",
)
NOTIFY_ON = Variable(
    name="NOTIFY_ON",
    parse=choice("failure", "always"),
    default="failure",
    help="`failure`: only failed operations are announced; `always`: every one.",
)
HEALTHCHECKS_URL = Variable(
    name="HEALTHCHECKS_URL",
    parse=optional(ping_url),
    shown=Shown.PING,
    from_file=True,
    help="A dead-man's switch (Healthchecks.io, Uptime Kuma push, cronitor): `<url>/start` "
    "when a scheduled run starts, `<url>` when every database succeeded, `<url>/fail` with "
    "the errors when any failed. An `http://` or `https://` URL with a host, or exit 2.",
)
METRICS_PORT = Variable(
    name="METRICS_PORT",
    parse=optional(port),
    unset="(off)",
    help="`controller start` serves Prometheus metrics on `/metrics` at this port, and the "
    "status page on `/` and `status --json` on `/status.json`.",
)
METRICS_ADDRESS = Variable(
    name="METRICS_ADDRESS",
    parse=ip_address,
    default="127.0.0.1",
    help="The address the metrics are served on (the image sets `0.0.0.0`): an IPv4 or IPv6 "
    "address (`0.0.0.0`: every IPv4 address, `::`: every address). A host name, `localhost` "
    "included, is a configuration error (exit 2) at start, not a lookup when the metrics "
    "start.",
)


def login_user(text: str, variable: str) -> str:
    """Return the user name ``text`` of basic auth.

    Raises:
        ConfigurationError: it holds a colon (basic auth ends the user there) or a
            control character.
    """
    if ":" in text or any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise ConfigurationError(
            f"{variable} must not hold a colon or a control character (basic auth)"
        )
    return text


METRICS_USER = Variable(
    name="METRICS_USER",
    parse=optional(login_user),
    unset="(no login)",
    from_file=True,
    help="With `METRICS_PASSWORD`, the user that the status page, `/status.json` and "
    "`/metrics` ask for (HTTP basic auth); set one without the other, or a user with a "
    "colon, and the controller stops with exit 2. Without them, keep `METRICS_PORT` "
    "private.",
)
METRICS_PASSWORD = Variable(
    name="METRICS_PASSWORD",
    parse=lambda text, variable: text or None,
    unset="(no login)",
    shown=Shown.SECRET,
    from_file=True,
    help="The password of `METRICS_USER` (never printed or logged). Basic auth sends it "
    "unencrypted: put TLS in front of a port reached over an untrusted network.",
)


def max_age(environ: Mapping[str, str]) -> timedelta | None:
    """Return ``BACKUP_MAX_AGE`` as a length of time (None: unset)."""
    seconds = BACKUP_MAX_AGE.read(environ)
    return timedelta(seconds=seconds) if seconds is not None else None


def metrics_login(environ: Mapping[str, str]) -> tuple[str, str] | None:
    """Return the user and password the metrics port asks for, or None when neither
    ``METRICS_USER`` nor ``METRICS_PASSWORD`` is set.

    Raises:
        ConfigurationError: only one of them is set, or either is malformed.
    """
    user = METRICS_USER.read(environ)
    password = METRICS_PASSWORD.read(environ)
    if (user is None) != (password is None):
        given, missing = ("METRICS_USER", "METRICS_PASSWORD")[:: 1 if user else -1]
        raise ConfigurationError(
            f"{given} is set but {missing} is not: set both METRICS_USER and "
            "METRICS_PASSWORD (or their _FILE) for a login, or neither"
        )
    return None if user is None or password is None else (user, password)


# In the order `controller config` prints them, after the core's.
VARIABLES: tuple[Variable[Any], ...] = (
    NOTIFY_URLS,
    NOTIFY_ON,
    HEALTHCHECKS_URL,
    METRICS_PORT,
    METRICS_ADDRESS,
    METRICS_USER,
    METRICS_PASSWORD,
)
