"""Telling people: Apprise notifications of runs, and Healthchecks-style pings.

Neither ever delays a backup or fails it: each is sent in the background, by a
child process killed at its deadline (:mod:`.endpoints`), with a bounded number
of tries; failures are logged as warnings with every URL's credentials redacted.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from pg_backup_manager.adapters.monitoring.endpoints import Pending, send
from pg_backup_manager.adapters.monitoring.redaction import (
    error_text,
    notify_urls,
    ping_url,
    redact,
)
from pg_backup_manager.domain.database_names import printable, split
from pg_backup_manager.domain.dump_options import left_out_words
from pg_backup_manager.domain.history import Outcome, RunRecord

log = logging.getLogger(__name__)
# Apprise says at INFO level what it sends: not for the operator's terminal.
logging.getLogger("apprise").setLevel(logging.WARNING)
TRIES = 2
TIMEOUT_SECONDS = 10.0


@attrs.frozen(kw_only=True)
class AppriseNotifier:
    """Sends a message for each run record through Apprise (Slack, ntfy, e-mail, webhooks...)."""

    urls: tuple[str, ...]
    always: bool = False

    def notify(self, identifier: str, record: RunRecord, *, resolves: bool = False) -> None:
        """Send ``record`` of ``identifier`` if it failed, ``resolves`` a failure told
        before, or always, in the background: returns at once, never raises (see
        :func:`.endpoints.send`)."""
        told = record.outcome is Outcome.FAILURE or resolves or self.always
        if not self.urls or not told:
            return
        title, body = message(identifier, record)
        send(
            {"kind": "notify", "identifier": identifier, "urls": list(self.urls)}
            | {"title": title, "body": body},
            what=f"notification of {identifier}",
            gave_up=f"{identifier}: could not notify {notify_urls(self.urls)}",
        )


def deliver(request: Mapping[str, Any]) -> None:
    """Carry out one exchange that :func:`.endpoints.send` started (in its child process).

    ``request`` is a ping (``kind``, ``url``, ``body``) or a notification
    (``kind``, ``identifier``, ``urls``, ``title``, ``body``); failures are
    logged as warnings, never raised.
    """
    if request["kind"] == "ping":
        _ping(str(request["url"]), str(request["body"]))
    else:
        _notify(
            str(request["identifier"]),
            [str(url) for url in request["urls"]],
            title=str(request["title"]),
            body=str(request["body"]),
        )


def _notify(identifier: str, urls: Sequence[str], *, title: str, body: str) -> None:
    import apprise  # here: a heavy import that only a notification needs

    sender = apprise.Apprise()
    for url in urls:
        sender.add(url)
    for attempt in range(1, TRIES + 1):
        try:
            if sender.notify(title=title, body=body):
                return
        except Exception as error:  # a notification must never fail a backup
            log.warning("notification failed: %s", error_text(error, urls))
        if attempt == TRIES:
            log.warning("%s: could not notify %s", identifier, notify_urls(urls))


def message(identifier: str, record: RunRecord) -> tuple[str, str]:
    """Return the title and body of the notification of ``record``."""
    took = (record.finished_at - record.started_at).total_seconds()
    shown = printable(identifier)  # a name can never make a line of its own
    title = f"{shown}: {record.operation.value} {record.outcome.value}"
    lines = [f"database: {shown}", f"operation: {record.operation.value}"]
    lines.append(f"outcome: {record.outcome.value} after {took:.0f} s")
    if record.backup is not None:
        size = f" ({record.size_bytes} bytes)" if record.size_bytes is not None else ""
        lines.append(f"backup: {record.backup}{size}")
        if record.partial:
            lines.append(f"partial: {left_out_words(record.left_out)}")
    if record.error is not None:
        lines.append(f"error: {redact(record.error)}")
    if record.note is not None:
        lines.append(f"note: {redact(record.note)}")
    if record.not_offsite:
        lines.append(f"off-site: missing {_some(record.not_offsite)} (kept locally)")
    return title, "\n".join(lines)


def _some(names: Sequence[str], shown: int = 5) -> str:
    """Return how many ``names`` there are and the first ``shown`` of them."""
    listed = ", ".join(names[:shown])
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return f"{len(names)} backup(s): {listed}{more}"


@attrs.frozen(kw_only=True)
class HealthchecksPings:
    """A dead-man's switch in the Healthchecks.io convention (also Uptime Kuma, cronitor):
    ``<url>/start`` when a scheduled run starts, ``<url>`` when it succeeded,
    ``<url>/fail`` with the errors when anything failed. One URL for the run, and
    one per service where set (for a service with every database of its server, its
    databases' errors together).

    Pings are sent in the background and return at once (see
    :func:`.endpoints.send`); the end of a run is sent to a URL only once the
    ping of its start ended, so the monitor hears them in order."""

    url: str | None = None
    per_database: Mapping[str, str] = attrs.field(factory=dict)
    _starts: dict[str, Pending] = attrs.field(factory=dict, init=False, eq=False, repr=False)

    def started(self, identifiers: Iterable[str]) -> None:
        """Ping the start of a run of ``identifiers``; never raise."""
        for url in self._urls(identifiers):
            self._starts[url] = _ping_later(f"{url}/start")

    def finished(self, identifiers: Iterable[str], errors: Mapping[str, str]) -> None:
        """Ping the end of a run; ``errors`` holds each failed database's error."""
        identifiers = list(identifiers)
        if self.url is not None:
            body = "\n".join(f"{printable(name)}: {error}" for name, error in errors.items())
            after = self._starts.pop(self.url, None)
            _ping_later(f"{self.url}/fail" if errors else self.url, body, after=after)
        for identifier in identifiers:
            url = self.per_database.get(identifier)
            if url is not None:
                error = errors_of(identifier, errors)
                after = self._starts.pop(url, None)
                _ping_later(f"{url}/fail" if error else url, error or "", after=after)

    def _urls(self, identifiers: Iterable[str]) -> list[str]:
        scoped = [self.per_database[i] for i in identifiers if i in self.per_database]
        return ([self.url] if self.url is not None else []) + scoped


def errors_of(service: str, errors: Mapping[str, str]) -> str | None:
    """Return what failed of ``service``: its error, or (every database of its server) a
    line per database that failed, ``<service>/<database>: <error>``; None: nothing."""
    own = {name: error for name, error in errors.items() if split(name)[0] == service}
    if list(own) == [service]:
        return own[service]
    return "\n".join(f"{printable(name)}: {error}" for name, error in own.items()) or None


def _ping_later(url: str, body: str = "", *, after: Pending | None = None) -> Pending:
    return send(
        {"kind": "ping", "url": url, "body": body},
        what="ping",
        gave_up=f"could not ping {ping_url(url)}",
        after=after,
    )


def _ping(url: str, body: str = "") -> None:
    import requests  # here: a heavy import that only a ping needs

    for _ in range(TRIES):
        try:
            if body:
                response = requests.post(url, data=body.encode(), timeout=TIMEOUT_SECONDS)
            else:
                response = requests.get(url, timeout=TIMEOUT_SECONDS)
            if response.ok:
                return
        except requests.RequestException as error:
            log.warning("ping of %s failed: %s", ping_url(url), error_text(error, (url,)))
    log.warning("could not ping %s", ping_url(url))
