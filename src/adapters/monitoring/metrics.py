"""``/metrics`` in the Prometheus text format (prometheus-client), for ``controller start``.

Every scrape asks for the status of every database afresh (the ``status`` use case
reads the backups and the run histories), so the values are right after a restart.
The collector only translates those statuses into series.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector, CollectorRegistry

from pg_backup_manager.adapters.monitoring.web import Answer, Login, application
from pg_backup_manager.adapters.monitoring.web_server import serve
from pg_backup_manager.domain.errors import ControllerError
from pg_backup_manager.domain.history import Outcome
from pg_backup_manager.domain.monitoring.freshness import DatabaseStatus

_PREFIX = "pg_backup"


class BackupCollector(Collector):
    """Turns the status of each database into the ``pg_backup_*`` series."""

    def __init__(self, statuses: Callable[[], Sequence[DatabaseStatus]]) -> None:
        """``statuses`` returns the status of every database, each with its
        :attr:`~DatabaseStatus.runs_total`."""
        self._statuses = statuses

    def collect(self) -> Iterator[Metric]:
        """Yield every series, labelled by database (and tier or outcome); the off-site
        series only when an off-site store is configured."""
        gauges = {
            name: GaugeMetricFamily(f"{_PREFIX}_{name}", text, labels=["database"])
            for name, text in (
                ("last_success_timestamp_seconds", "When the last backup run succeeded."),
                ("last_failure_timestamp_seconds", "When the last backup run failed."),
                ("last_duration_seconds", "How long the last backup run took."),
                ("last_size_bytes", "Size of the newest backup."),
                ("stored_bytes", "Bytes of all the backups kept."),
                ("healthy", "1 when the newest backup is fresh enough, else 0."),
                ("max_age_seconds", "How old the newest backup may be (BACKUP_MAX_AGE in use)."),
            )
        }
        tiers = GaugeMetricFamily(
            f"{_PREFIX}_backups", "Backups kept, per tier.", labels=["database", "tier"]
        )
        runs = CounterMetricFamily(
            f"{_PREFIX}_runs",
            "Backup runs (scheduled and dumps) that ended, per outcome.",
            labels=["database", "outcome"],
        )
        statuses = self._statuses()
        for status in statuses:
            label = [status.database.identifier]
            if status.last_success is not None:
                gauges["last_success_timestamp_seconds"].add_metric(
                    label, status.last_success.finished_at.timestamp()
                )
            if status.last_failure is not None:
                gauges["last_failure_timestamp_seconds"].add_metric(
                    label, status.last_failure.finished_at.timestamp()
                )
            last = max(
                (r for r in (status.last_success, status.last_failure) if r is not None),
                key=lambda record: record.finished_at,
                default=None,
            )
            if last is not None:
                took = (last.finished_at - last.started_at).total_seconds()
                gauges["last_duration_seconds"].add_metric(label, took)
            if status.newest is not None:
                gauges["last_size_bytes"].add_metric(label, status.newest.size)
            gauges["stored_bytes"].add_metric(label, status.total_bytes)
            gauges["healthy"].add_metric(label, 1.0 if status.healthy else 0.0)
            gauges["max_age_seconds"].add_metric(label, status.max_age.total_seconds())
            for tier, count in status.backups_by_tier.items():
                tiers.add_metric([*label, tier.value], count)
            for outcome in Outcome:
                runs.add_metric([*label, outcome.value], status.runs_total.get(outcome, 0))
        yield from gauges.values()
        yield tiers
        yield runs
        yield from offsite_metrics(statuses)
        yield from pitr_metrics(statuses)
        yield from verify_metrics(statuses)


def offsite_metrics(statuses: Sequence[DatabaseStatus]) -> list[Metric]:
    """Return the ``pg_backup_offsite_*`` series of the databases whose status says what is
    off-site; none at all when no off-site store is configured."""
    offsite = [(s.database.identifier, s.offsite) for s in statuses if s.offsite is not None]
    if not offsite:
        return []
    missing = GaugeMetricFamily(
        f"{_PREFIX}_offsite_missing",
        "Local backups that no sync has confirmed off-site.",
        labels=["database"],
    )
    success, failure = (
        GaugeMetricFamily(
            f"{_PREFIX}_offsite_last_{outcome}_timestamp_seconds",
            f"When the last upload off-site (sync) {verb}.",
            labels=["database"],
        )
        for outcome, verb in (("success", "succeeded"), ("failure", "failed"))
    )
    for identifier, found in offsite:
        missing.add_metric([identifier], len(found.missing))
        if found.last_success is not None:
            success.add_metric([identifier], found.last_success.finished_at.timestamp())
        if found.last_failure is not None:
            failure.add_metric([identifier], found.last_failure.finished_at.timestamp())
    return [missing, success, failure]


def pitr_metrics(statuses: Sequence[DatabaseStatus]) -> list[Metric]:
    """Return the ``pg_backup_wal_*`` and ``pg_backup_pitr_*`` series of the databases with
    WAL archiving on; none at all when no database has it. A value that is unknown (no
    receiver state, no slot seen, no window) has no sample."""
    found = [(s.database.identifier, s.pitr) for s in statuses if s.pitr is not None]
    if not found:
        return []
    families = {
        name: GaugeMetricFamily(f"{_PREFIX}_{name}", text, labels=["database"])
        for name, text in (
            ("wal_receiver_up", "1 while the WAL receiver is receiving, else 0."),
            ("wal_last_received_timestamp_seconds", "When the newest WAL was received."),
            ("wal_lag_bytes", "Bytes of WAL the server wrote that the receiver has not flushed."),
            ("wal_slot_retained_bytes", "Bytes of WAL the replication slot holds on the server."),
            ("pitr_window_start_timestamp_seconds", "Start of the newest recoverable window."),
            ("pitr_window_end_timestamp_seconds", "End of the newest recoverable window."),
            ("pitr_healthy", "1 when nothing of WAL archiving is at fault, else 0."),
        )
    }
    for identifier, pitr in found:
        label = [identifier]
        families["wal_receiver_up"].add_metric(label, 1.0 if pitr.receiving else 0.0)
        if pitr.last_segment is not None:
            at = pitr.last_segment.received_at.timestamp()
            families["wal_last_received_timestamp_seconds"].add_metric(label, at)
        if pitr.lag_bytes is not None:
            families["wal_lag_bytes"].add_metric(label, pitr.lag_bytes)
        if pitr.slot is not None and pitr.slot.retained_bytes is not None:
            families["wal_slot_retained_bytes"].add_metric(label, pitr.slot.retained_bytes)
        window = pitr.newest_window
        if window is not None:
            start, end = window.start_at.timestamp(), window.end_at.timestamp()
            families["pitr_window_start_timestamp_seconds"].add_metric(label, start)
            families["pitr_window_end_timestamp_seconds"].add_metric(label, end)
        families["pitr_healthy"].add_metric(label, 1.0 if pitr.healthy else 0.0)
    return list(families.values())


def verify_metrics(statuses: Sequence[DatabaseStatus]) -> list[Metric]:
    """Return the ``pg_backup_last_verify_*`` series (and with ``VERIFY_REMOTE`` the
    ``pg_backup_offsite_last_verify_*`` ones) of the scheduled verifications; none at all
    without ``VERIFY_SCHEDULE``. A database not verified yet has no sample."""
    found = [
        (s.database.identifier, s.verification) for s in statuses if s.verification is not None
    ]
    remote = any(verification.offsite is not None for _, verification in found)
    kinds = [("", "the newest backup", False)]
    if remote:
        kinds.append(("offsite_", "the newest off-site copy", True))
    families: list[Metric] = []
    for prefix, what, offsite in kinds if found else []:
        when = GaugeMetricFamily(
            f"{_PREFIX}_{prefix}last_verify_timestamp_seconds",
            f"When the last scheduled verification of {what} ended.",
            labels=["database"],
        )
        success = GaugeMetricFamily(
            f"{_PREFIX}_{prefix}last_verify_success",
            f"1 when the last scheduled verification of {what} passed, else 0.",
            labels=["database"],
        )
        for identifier, verification in found:
            kind = verification.offsite if offsite else verification.local
            if kind is not None and kind.last is not None:
                when.add_metric([identifier], kind.last.finished_at.timestamp())
                success.add_metric([identifier], 0.0 if kind.failed else 1.0)
        families += [when, success]
    return families


def serve_metrics(
    *,
    address: str,
    port: int,
    statuses: Callable[[], Sequence[DatabaseStatus]],
    page: Callable[[], str] | None = None,
    document: Callable[[], str] | None = None,
    login: Login | None = None,
) -> None:
    """Serve ``/metrics`` on ``address``:``port`` from a daemon thread; each scrape calls
    ``statuses`` (see :class:`BackupCollector`). With ``page`` and ``document``, also
    ``/`` (the HTML that ``page`` returns) and ``/status.json`` (``document``); with
    ``login``, every path asks for it (see :mod:`.web`).

    Raises:
        ControllerError: the port cannot be opened; the message names the variables.
    """
    registry = CollectorRegistry(auto_describe=False)
    registry.register(BackupCollector(statuses))

    def metrics(environ: dict[str, Any]) -> Answer:
        encoder, media_type = choose_encoder(environ.get("HTTP_ACCEPT", ""))
        return Answer(body=encoder(registry), media_type=media_type)

    routes: dict[str, Callable[[dict[str, Any]], Answer]] = {"/metrics": metrics}
    if page is not None:
        routes["/"] = lambda _: Answer(body=page().encode(), media_type="text/html; charset=utf-8")
    if document is not None:
        routes["/status.json"] = lambda _: Answer(
            body=document().encode(), media_type="application/json"
        )
    try:
        serve(address, port, application(routes, login))
    except OSError as error:
        raise ControllerError(
            f"cannot serve metrics on {address}:{port} ({error.strerror or error}): "
            "check METRICS_PORT and METRICS_ADDRESS"
        ) from None
