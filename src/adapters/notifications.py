"""Telling people: Apprise notifications of runs, and Healthchecks-style pings.

Neither ever delays a backup for long or fails it: short timeouts, a bounded
number of tries, failures logged as warnings with every URL's credentials
redacted.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

import attrs

from pg_backup_manager.domain.history import Outcome, RunRecord
from pg_backup_manager.domain.ports import RunLog

log = logging.getLogger(__name__)
# Apprise says at INFO level what it sends: not for the operator's terminal.
logging.getLogger("apprise").setLevel(logging.WARNING)
TRIES = 2
TIMEOUT_SECONDS = 10.0
_CREDENTIALS = re.compile(r"(?<=://)[^/@\s]+@")
_SECRET_PARTS = re.compile(r"(?i)((?:token|key|secret|password|pass|apikey)=)[^&\s]+")
_PATH_AFTER_HOST = re.compile(r"(?<=://)([^/\s]+/)[^\s?]+")


def redact(text: str) -> str:
    """Return ``text`` with the credentials of the URLs in it replaced by ``***``.

    User and password, secret query parameters, and the path after the host
    (webhook URLs such as Slack's or Healthchecks.io's carry their token there).
    """
    text = _CREDENTIALS.sub("***@", text)
    text = _SECRET_PARTS.sub(r"\1***", text)
    return _PATH_AFTER_HOST.sub(r"\1***", text)


@attrs.frozen(kw_only=True)
class AppriseNotifier:
    """Sends a message for each run record through Apprise (Slack, ntfy, e-mail, webhooks...)."""

    urls: tuple[str, ...]
    always: bool = False

    def notify(self, identifier: str, record: RunRecord) -> None:
        """Send ``record`` of ``identifier`` if it failed (or always); never raise."""
        if not self.urls or (record.outcome is Outcome.SUCCESS and not self.always):
            return
        import apprise  # here: a heavy import that only a notification needs

        title, body = message(identifier, record)
        sender = apprise.Apprise()
        for url in self.urls:
            sender.add(url)
        for attempt in range(1, TRIES + 1):
            try:
                if sender.notify(title=title, body=body):
                    return
            except Exception as error:  # a notification must never fail a backup
                log.warning("notification failed: %s", redact(str(error)))
            if attempt == TRIES:
                log.warning(
                    "%s: could not notify %s", identifier, ", ".join(map(redact, self.urls))
                )


def message(identifier: str, record: RunRecord) -> tuple[str, str]:
    """Return the title and body of the notification of ``record``."""
    took = (record.finished_at - record.started_at).total_seconds()
    title = f"{identifier}: {record.operation.value} {record.outcome.value}"
    lines = [f"database: {identifier}", f"operation: {record.operation.value}"]
    lines.append(f"outcome: {record.outcome.value} after {took:.0f} s")
    if record.backup is not None:
        size = f" ({record.size_bytes} bytes)" if record.size_bytes is not None else ""
        lines.append(f"backup: {record.backup}{size}")
    if record.error is not None:
        lines.append(f"error: {redact(record.error)}")
    if record.not_offsite:
        lines.append(f"off-site: missing {_some(record.not_offsite)} (kept locally)")
    return title, "\n".join(lines)


def _some(names: Sequence[str], shown: int = 5) -> str:
    """Return how many ``names`` there are and the first ``shown`` of them."""
    listed = ", ".join(names[:shown])
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return f"{len(names)} backup(s): {listed}{more}"


class Notifier(Protocol):
    """Tells people of a run record (AppriseNotifier, or a fake in the tests)."""

    def notify(self, identifier: str, record: RunRecord) -> None:
        """Send ``record`` of ``identifier`` to whoever should hear of it; never raise."""


@attrs.frozen(kw_only=True)
class NotifyingRunLog:
    """A run log that also notifies people of what it records."""

    inner: RunLog
    notifier: Notifier

    def record(self, identifier: str, record: RunRecord) -> None:
        """Record ``record``, then notify (both never raise)."""
        self.inner.record(identifier, record)
        self.notifier.notify(identifier, record)

    def records(self, identifier: str) -> list[RunRecord]:
        """Return the history of ``identifier``, oldest first."""
        return self.inner.records(identifier)

    def totals(self, identifier: str) -> dict[Outcome, int]:
        """Return how many backup runs of ``identifier`` ended each way, ever."""
        return self.inner.totals(identifier)

    def unreadable_lines(self, identifier: str) -> int:
        """Return how many lines of the history of ``identifier`` could not be read."""
        return self.inner.unreadable_lines(identifier)


@attrs.frozen(kw_only=True)
class HealthchecksPings:
    """A dead-man's switch in the Healthchecks.io convention (also Uptime Kuma, cronitor):
    ``<url>/start`` when a scheduled run starts, ``<url>`` when it succeeded,
    ``<url>/fail`` with the errors when anything failed. One URL for the run, and
    one per database where set."""

    url: str | None = None
    per_database: Mapping[str, str] = attrs.field(factory=dict)

    def started(self, identifiers: Iterable[str]) -> None:
        """Ping the start of a run of ``identifiers``; never raise."""
        for url in self._urls(identifiers):
            _ping(f"{url}/start")

    def finished(self, identifiers: Iterable[str], errors: Mapping[str, str]) -> None:
        """Ping the end of a run; ``errors`` holds each failed database's error."""
        identifiers = list(identifiers)
        if self.url is not None:
            body = "\n".join(f"{name}: {error}" for name, error in errors.items())
            _ping(f"{self.url}/fail" if errors else self.url, body)
        for identifier in identifiers:
            url = self.per_database.get(identifier)
            if url is not None:
                error = errors.get(identifier)
                _ping(f"{url}/fail" if error else url, error or "")

    def _urls(self, identifiers: Iterable[str]) -> list[str]:
        scoped = [self.per_database[i] for i in identifiers if i in self.per_database]
        return ([self.url] if self.url is not None else []) + scoped


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
            log.warning("ping of %s failed: %s", redact(url), redact(str(error)))
    log.warning("could not ping %s", redact(url))
