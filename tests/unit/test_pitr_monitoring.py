"""Point-in-time recovery in ``status``, ``health``, the metrics and the alerts: the rules
that judge a receiver, a slot and base backups, and what each room says of them."""

from __future__ import annotations

import json
from datetime import timedelta

import attrs
import pytest
from prometheus_client import generate_latest
from prometheus_client.registry import CollectorRegistry

from pg_backup_manager.adapters.configuration.pitr import WAL_SLOT_ALERT_SIZE
from pg_backup_manager.adapters.cron import CronSchedule
from pg_backup_manager.adapters.monitoring.metrics import BackupCollector
from pg_backup_manager.adapters.monitoring.notifications import message
from pg_backup_manager.domain.backups.timetable import Schedules
from pg_backup_manager.domain.errors import ConfigurationError, ControllerError
from pg_backup_manager.domain.history import Operation, Outcome, RunRecord
from pg_backup_manager.domain.monitoring.health import Verdict
from pg_backup_manager.domain.monitoring.pitr_rules import receiver_fault, slot_fault
from pg_backup_manager.domain.monitoring.pitr_status import ReadPitrStatus
from pg_backup_manager.domain.monitoring.receiver_alerts import (
    SLOT_ALERT,
    SLOT_CLEAR,
    ReceiverAlerts,
)
from pg_backup_manager.domain.monitoring.status import CheckHealth, Status
from pg_backup_manager.domain.monitoring.telling import Tell
from pg_backup_manager.domain.pitr.model import (
    CONTROLLER_STOPPED,
    RECEIVER_STARTED,
    BaseBackup,
    CaughtUp,
    DamagedStream,
    ReceiverCondition,
    ReceiverState,
    SlotState,
    Stream,
)
from pg_backup_manager.entrypoints.rendering import documents
from pg_backup_manager.entrypoints.rendering import status as render_status
from pg_backup_manager.entrypoints.rendering.backups import error

from .fakes import (
    FakeClock,
    FakeHeartbeat,
    FakeNotifier,
    FakePings,
    FakePitrStore,
    FakeReceiverStates,
    FakeRunLog,
    FakeStore,
    database,
)
from .pitr_builders import SIZE, T0, a_stream, base, minute, seg, segs

APP = database("app", wal_archive=True)
DELAY = timedelta(minutes=5)
GIB = 1 << 30
DAILY = CronSchedule.parse("0 1 * * *", "UTC")


def down(since_minute: float, error: str = "server gone") -> ReceiverState:
    return ReceiverState(condition=ReceiverCondition.DOWN, since=minute(since_minute), error=error)


def receiving(
    since_minute: float = 0, *, slot: SlotState | None = None, caught_up_minute: float = 9.5
) -> ReceiverState:
    """A receiver running since ``since_minute``, caught up with its server at
    ``caught_up_minute`` (the tests look at minute 10 or so)."""
    return ReceiverState(
        condition=ReceiverCondition.RECEIVING,
        since=minute(since_minute),
        stream=a_stream().name,
        slot=slot,
        checked_at=minute(since_minute) if slot is not None else None,
        caught_up_at=minute(caught_up_minute),
    )


def slot(retained: int | None = 1 << 20, wal_status: str = "reserved") -> SlotState:
    return SlotState(
        name="pg_backup_manager_app",
        active=True,
        restart_lsn=0x3000000,
        wal_status=wal_status,
        safe_wal_size=None,
        retained_bytes=retained,
    )


# The rules.


def test_a_receiver_down_longer_than_wal_max_delay_is_at_fault_with_its_error() -> None:
    state = down(0)

    within = receiver_fault(state, now=minute(5), max_delay=DELAY)
    beyond = receiver_fault(state, now=minute(6), max_delay=DELAY)

    assert within is None
    assert beyond == "WAL receiver down for 6 min (more than WAL_MAX_DELAY, 5 min): server gone"


def test_a_receiver_running_but_not_caught_up_longer_than_the_delay_is_at_fault() -> None:
    hung = receiving(0, caught_up_minute=4)

    fault = receiver_fault(hung, now=minute(10), max_delay=DELAY)

    assert fault == (
        "WAL receiver has not caught up with its server for 6 min (more than "
        "WAL_MAX_DELAY, 5 min): what the server wrote since is not archived"
    )
    assert receiver_fault(hung, now=minute(8), max_delay=DELAY) is None


def test_a_receiver_the_controller_stopped_and_one_receiving_are_no_fault() -> None:
    stopped = down(0, error=CONTROLLER_STOPPED)

    assert receiver_fault(stopped, now=minute(60), max_delay=DELAY) is None
    assert (
        receiver_fault(receiving(0, caught_up_minute=59), now=minute(60), max_delay=DELAY) is None
    )


def test_a_silent_receiver_is_at_fault_once_the_controller_ran_longer_than_wal_max_delay() -> None:
    early = receiver_fault(None, now=minute(4), max_delay=DELAY, started_at=minute(0))
    late = receiver_fault(None, now=minute(6), max_delay=DELAY, started_at=minute(0))
    unknown = receiver_fault(None, now=minute(60), max_delay=DELAY, started_at=None)

    assert early is None and unknown is None
    assert late is not None and late.startswith("no word from its WAL receiver")


def test_a_state_written_before_the_controller_started_is_stale_after_wal_max_delay() -> None:
    # The receiver said "receiving" then the controller was killed; a new one started.
    old = receiving(0)

    early = receiver_fault(old, now=minute(13), max_delay=DELAY, started_at=minute(10))
    late = receiver_fault(old, now=minute(16), max_delay=DELAY, started_at=minute(10))

    assert early is None
    assert late == (
        "its WAL receiver has said nothing since 'controller start' began 6 min ago "
        "(pitr/receiver.json is older)"
    )


@pytest.mark.parametrize(
    ("found", "said"),
    [
        (slot(2 * GIB), "holds 2.0 GiB of WAL on the server (more than WAL_SLOT_ALERT_SIZE, "),
        (slot(wal_status="unreserved"), "is unreserved: the server may remove WAL it holds"),
        (slot(None, wal_status="lost"), "is lost: the server removed WAL it held"),
    ],
    ids=["too much", "unreserved", "lost"],
)
def test_a_slot_holding_too_much_unreserved_or_lost_is_at_fault(
    found: SlotState, said: str
) -> None:
    fault = slot_fault(found, alert_bytes=GIB)

    assert fault is not None and said in fault
    assert fault.startswith("slot pg_backup_manager_app ")


def test_a_slot_holding_less_than_the_alert_size_is_no_fault() -> None:
    assert slot_fault(slot(GIB), alert_bytes=GIB) is None
    assert slot_fault(slot(wal_status="extended"), alert_bytes=GIB) is None
    assert slot_fault(None, alert_bytes=GIB) is None


@pytest.mark.parametrize(
    ("text", "size"),
    [("1GB", GIB), ("512MB", 512 << 20), ("1048576", 1 << 20), ("2 TB", 2 << 40)],
)
def test_the_slot_alert_size_is_bytes_or_a_number_with_postgresqls_units(
    text: str, size: int
) -> None:
    assert WAL_SLOT_ALERT_SIZE.read({"WAL_SLOT_ALERT_SIZE": text}) == size
    assert WAL_SLOT_ALERT_SIZE.read({}) == GIB


@pytest.mark.parametrize(
    "text", ["1 GiB", "1.5GB", "1gb", "1024", "-1MB", "2048TB", " 1GB", "1GB ", "1\nGB"]
)
def test_a_malformed_slot_alert_size_names_the_variable(text: str) -> None:
    with pytest.raises(ConfigurationError, match=r"^WAL_SLOT_ALERT_SIZE must be a size from"):
        WAL_SLOT_ALERT_SIZE.read({"WAL_SLOT_ALERT_SIZE": text})


# What is read of a service: its streams and the receiver's word.


def store_with(stream: Stream, bases: tuple[BaseBackup, ...], numbers: tuple[int, ...]):  # type: ignore[no-untyped-def]
    store = FakePitrStore()
    store.kept["app"] = [stream]
    store.bases[("app", stream.name)] = list(bases)
    store.wal[("app", stream.name)] = list(segs(*numbers))
    if numbers:  # a receiver that kept up: proven complete to its newest segment's time
        newest = max(numbers)
        store.caught[("app", stream.name)] = CaughtUp(at=minute(newest), lsn=newest * SIZE + 1)
    return store


def read(store: FakePitrStore, states: FakeReceiverStates | None = None, **at: object):  # type: ignore[no-untyped-def]
    reader = ReadPitrStatus(
        store=store,
        states=states or FakeReceiverStates(),
        base_schedule=DAILY,
        max_delay=DELAY,
        slot_alert_bytes=GIB,
    )
    return reader(APP, now=at.get("now", minute(10)), started_at=at.get("started_at"))  # type: ignore[arg-type]


def test_a_stream_with_a_base_backup_and_its_wal_has_a_window_to_the_newest_wal() -> None:
    store = store_with(a_stream(), (base(2, 3),), (1, 2, 3, 4, 5))
    states = FakeReceiverStates()
    states.write("app", receiving(4, slot=slot(3 << 20)))

    found = read(store, states)

    assert found.receiving and found.healthy and found.faults == ()
    assert found.last_segment == seg(5)
    assert found.newest_wal_in_window
    assert found.newest_window is not None
    assert (found.newest_window.start_at, found.newest_window.end_at) == (
        base(2, 3).finished_at,
        minute(5),
    )
    assert found.lag_bytes == 3 << 20 and found.newest_base == base(2, 3)


def test_wal_after_a_gap_is_in_no_window_and_status_says_so() -> None:
    store = store_with(a_stream(), (base(2, 3),), (2, 3, 4, 6, 7))

    found = read(store)

    assert not found.newest_wal_in_window
    assert found.newest_window is not None and found.newest_window.gap_at is not None


def test_a_base_backup_older_than_twice_its_schedules_gap_is_at_fault() -> None:
    store = store_with(a_stream(), (base(2, 3),), (1, 2, 3, 4))

    fresh = read(store, now=minute(2 * 24 * 60))
    stale = read(store, now=minute(2 * 24 * 60 + 60))

    assert fresh.faults == ()
    [fault] = stale.faults
    assert fault.startswith(f"newest base backup is 2.0 days old ({base(2, 3).name}), more than")


def test_a_stream_without_a_base_backup_is_at_fault_only_once_older_than_the_base_max_age() -> None:
    store = store_with(a_stream(), (), (1, 2, 3))

    young = read(store, now=T0 + timedelta(days=1))
    old = read(store, now=T0 + timedelta(days=3))

    assert young.faults == () and not young.newest_wal_in_window
    [fault] = old.faults
    assert fault.startswith(f"no base backup in stream {a_stream().name}, begun 3.0 days ago")


@attrs.define
class UnreadableStore(FakePitrStore):
    def streams(self, identifier: str) -> list[Stream]:
        raise ControllerError("cannot read /backup/app/pitr/streams: permission denied")


def test_streams_that_cannot_be_read_are_a_fault_not_an_error() -> None:
    found = read(UnreadableStore())

    assert found.faults == (
        "cannot read its streams: cannot read /backup/app/pitr/streams: permission denied",
    )


# The rooms: health, status, status --json, metrics.


def rooms(states: FakeReceiverStates, store: FakePitrStore, clock: FakeClock):  # type: ignore[no-untyped-def]
    heartbeat = FakeHeartbeat(clock=clock)
    heartbeat.started(minute(0))
    heartbeat.beat()
    status = Status(
        catalog=FakeStore(),
        history=FakeRunLog(),
        clock=clock,
        schedules=Schedules(common=DAILY),
        heartbeat=heartbeat,
        production=True,
        pitr=ReadPitrStatus(
            store=store,
            states=states,
            base_schedule=DAILY,
            max_delay=DELAY,
            slot_alert_bytes=GIB,
        ),
    )
    return status, CheckHealth(status=status, heartbeat=heartbeat)


def test_health_names_a_receiver_down_too_long_and_status_json_and_metrics_show_it() -> None:
    clock = FakeClock(current=minute(12))
    states = FakeReceiverStates()
    states.write("app", down(5, "psql: connection refused"))
    status, health = rooms(states, store_with(a_stream(), (base(2, 3),), (1, 2, 3, 4)), clock)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(BackupCollector(lambda: status([APP])))

    report = health([APP], max_heartbeat_age=180, liveness_only=False)
    lines = render_status.health(report)
    text = "\n".join(
        line.text for line in render_status.statuses(status([APP]), Schedules(common=DAILY))
    )
    [entry] = json.loads(documents.statuses(status([APP])))["databases"]

    assert report.verdict is Verdict.FAULTS
    assert (
        error(
            "app: WAL receiver down for 7 min (more than WAL_MAX_DELAY, 5 min): "
            "psql: connection refused"
        )
        in lines
    )
    assert "app: UNHEALTHY" in text
    assert "  WAL receiver:     down since 2026-12-04T10:05:00Z: psql: connection refused" in text
    assert "  recoverable:      2026-12-04T10:02:30Z to 2026-12-04T10:04:00Z (1 window(s);" in text
    assert entry["healthy"] is False
    pitr = entry["pitr"]
    assert (pitr["receiver"], pitr["receiver_since"]) == ("down", "2026-12-04T10:05:00Z")
    assert pitr["window_end_at"] == "2026-12-04T10:04:00Z" and pitr["windows"] == 1
    assert pitr["newest_wal_in_window"] is True
    assert pitr["last_segment"] == seg(4).name and pitr["max_delay_seconds"] == 300
    assert sample(registry, "wal_receiver_up") == 0.0
    assert sample(registry, "pitr_healthy") == 0.0
    assert sample(registry, "pitr_window_end_timestamp_seconds") == minute(4).timestamp()
    assert sample(registry, "wal_slot_retained_bytes") is None  # no slot seen: no sample


def sample(registry: CollectorRegistry, name: str) -> float | None:
    return registry.get_sample_value(f"pg_backup_{name}", {"database": "app"})


def test_a_receiving_service_is_healthy_with_its_slot_and_lag_in_every_room() -> None:
    clock = FakeClock(current=minute(12))
    states = FakeReceiverStates()
    states.write("app", receiving(1, slot=slot(5 << 20)))
    store = store_with(a_stream(), (base(2, 3),), (1, 2, 3, 4))
    status, health = rooms(states, store, clock)
    store.wal[("app", a_stream().name)].append(seg(5, partial=True))
    registry = CollectorRegistry(auto_describe=False)
    registry.register(BackupCollector(lambda: status([APP])))

    report = health([APP], max_heartbeat_age=180, liveness_only=False)
    [entry] = json.loads(documents.statuses(status([APP])))["databases"]

    assert report.databases[0].pitr is not None and report.databases[0].pitr.faults == ()
    assert entry["pitr"]["lag_bytes"] == 5 << 20 and entry["pitr"]["faults"] == []
    assert entry["pitr"]["slot"]["retained_bytes"] == 5 << 20
    assert entry["pitr"]["last_segment"] == seg(5, partial=True).name
    assert sample(registry, "wal_receiver_up") == 1.0
    assert sample(registry, "wal_lag_bytes") == 5 << 20
    assert sample(registry, "wal_slot_retained_bytes") == 5 << 20
    assert sample(registry, "wal_last_received_timestamp_seconds") == minute(5).timestamp()
    assert sample(registry, "pitr_window_start_timestamp_seconds") == (
        base(2, 3).finished_at.timestamp()
    )


def test_the_last_wal_is_never_a_file_of_the_wrong_size_named_as_a_segment() -> None:
    store = store_with(a_stream(), (base(2, 3),), (1, 2, 3, 4))
    junk = attrs.evolve(seg(0x99), size=0)
    store.wal[("app", a_stream().name)] += [seg(5, partial=True), junk]

    found = read(store)

    assert found.last_segment == seg(5, partial=True)
    assert found.newest_wal_in_window


def test_a_damaged_stream_makes_the_service_unhealthy_in_every_room_the_live_one_is_read() -> None:
    clock = FakeClock(current=minute(12))
    states = FakeReceiverStates()
    states.write("app", receiving(1, slot=slot()))
    store = store_with(a_stream(), (base(2, 3),), (1, 2, 3, 4))
    store.broken["app"] = [DamagedStream(name="2026-12-05T00:00:00Z", reason="no STREAM.json")]
    status, health = rooms(states, store, clock)

    report = health([APP], max_heartbeat_age=180, liveness_only=False)
    text = "\n".join(
        line.text for line in render_status.statuses(status([APP]), Schedules(common=DAILY))
    )
    [entry] = json.loads(documents.statuses(status([APP])))["databases"]

    fault = (
        "stream 2026-12-05T00:00:00Z is damaged (no STREAM.json): never recovered from nor "
        "pruned; restore its STREAM.json from a copy, or move the directory away"
    )
    assert report.verdict is Verdict.FAULTS
    assert error(f"app: {fault}") in render_status.health(report)
    assert f"  WAL fault:        {fault}" in text
    assert entry["pitr"]["faults"] == [fault]
    assert entry["pitr"]["damaged_streams"] == ["2026-12-05T00:00:00Z"]
    assert entry["pitr"]["stream"] == a_stream().name
    assert entry["pitr"]["last_segment"] == seg(4).name and entry["pitr"]["windows"] == 1


def test_a_database_without_wal_archiving_has_no_pitr_object_or_series() -> None:
    clock = FakeClock(current=minute(12))
    status, _ = rooms(FakeReceiverStates(), FakePitrStore(), clock)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(BackupCollector(lambda: status([database("users")])))

    [entry] = json.loads(documents.statuses(status([database("users")])))["databases"]
    scraped = generate_latest(registry).decode()

    assert "pitr" not in entry
    assert "pg_backup_wal_" not in scraped and "pg_backup_pitr_" not in scraped


# Telling: the dead-man's switch, notifications of a return, the slot alert.


def alerts(clock: FakeClock) -> tuple[ReceiverAlerts, FakePings, FakeRunLog, FakeNotifier]:
    pings, run_log, notifier = FakePings(), FakeRunLog(), FakeNotifier()
    watched = ReceiverAlerts(
        states=FakeReceiverStates(),
        run_log=run_log,
        tell=Tell(notifier=notifier, pings=pings),
        clock=clock,
        max_delay=DELAY,
        slot_alert_bytes=GIB,
    )
    return watched, pings, run_log, notifier


def test_a_receiver_down_longer_than_wal_max_delay_pings_fail_once_then_success_when_back() -> None:
    clock = FakeClock(current=minute(0))
    watched, pings, _, _ = alerts(clock)

    for at in (0, 2, 4, 6, 7):  # the supervisor writes at each retry
        clock.current = minute(at)
        watched.write("app", down(0))
    clock.current = minute(8)
    watched.write("app", receiving(8))
    watched.write("app", receiving(8, slot=slot()))

    assert pings.pinged == [
        (
            "end",
            ("app",),
            {
                "app": "WAL receiver: WAL receiver down for 6 min (more than WAL_MAX_DELAY, "
                "5 min): server gone"
            },
        ),
        ("end", ("app",), {}),
    ]
    assert watched.read("app") == receiving(8, slot=slot())


def test_a_run_that_ends_while_a_receiver_is_down_pings_fail_with_it() -> None:
    pings = FakePings()
    tell = Tell(notifier=FakeNotifier(), pings=pings)

    tell.receiver_down("app", "down for 6 min")
    tell.run_ended(["users"], {})
    tell.run_ended(["users", "app"], {"users": "password authentication failed"})
    tell.receiver_back("app")
    tell.run_ended(["users", "app"], {})

    assert pings.pinged[1:] == [
        ("end", ("users", "app"), {"app": "WAL receiver: down for 6 min"}),
        (
            "end",
            ("users", "app"),
            {"users": "password authentication failed", "app": "WAL receiver: down for 6 min"},
        ),
        ("end", ("app",), {"users": "password authentication failed"}),
        ("end", ("users", "app"), {}),
    ]


def test_a_controllers_stop_and_a_short_outage_ping_nothing() -> None:
    clock = FakeClock(current=minute(3))
    watched, pings, _, _ = alerts(clock)

    watched.write("app", down(0))
    watched.write("app", receiving(3))
    clock.current = minute(60)
    watched.write("app", down(3, error=CONTROLLER_STOPPED))

    assert pings.pinged == []


def receiver_record(outcome: Outcome, note: str | None = None) -> RunRecord:
    return RunRecord(
        operation=Operation.WAL_RECEIVER,
        started_at=T0,
        finished_at=T0,
        outcome=outcome,
        error="WAL receiver stopped: gone" if outcome is Outcome.FAILURE else None,
        note=note,
    )


def test_a_receivers_start_after_a_told_stop_resolves_it_and_is_notified_whatever_notify_on() -> (
    None
):
    notifier = FakeNotifier()
    tell = Tell(notifier=notifier, pings=FakePings())
    started = receiver_record(Outcome.SUCCESS, RECEIVER_STARTED)

    tell.operation_ended("app", started)  # the first start: nothing resolved
    tell.operation_ended("app", receiver_record(Outcome.FAILURE))
    tell.operation_ended("app", receiver_record(Outcome.FAILURE))
    tell.operation_ended("app", started)
    tell.operation_ended("app", started)
    dump = attrs.evolve(started, operation=Operation.DUMP, note=None)
    tell.operation_ended("users", attrs.evolve(dump, outcome=Outcome.FAILURE))
    tell.operation_ended("users", dump)

    assert notifier.resolving == [("app", started)]
    assert len(notifier.told) == 7


def test_a_slot_alert_is_recorded_once_when_it_crosses_and_ends_under_half_the_size() -> None:
    clock = FakeClock(current=minute(0))
    watched, _, run_log, _ = alerts(clock)

    for held in (2 * GIB, 3 * GIB, GIB // 2 + 1, 2 * GIB, GIB // 2 - 1, 2 * GIB):
        watched.write("app", receiving(0, slot=slot(held)))
    watched.write("app", down(0))  # no slot seen: nothing changes

    records = run_log.records("app")
    assert [(r.outcome, r.note) for r in records] == [
        (Outcome.FAILURE, SLOT_ALERT),
        (Outcome.SUCCESS, SLOT_CLEAR),
        (Outcome.FAILURE, SLOT_ALERT),
    ]
    assert records[0].error is not None and "holds 2.0 GiB of WAL" in records[0].error


def test_a_notification_says_the_records_note() -> None:
    title, body = message("app", receiver_record(Outcome.SUCCESS, RECEIVER_STARTED))

    assert title == "app: wal-receiver success"
    assert body.endswith("\nnote: receiver started")
