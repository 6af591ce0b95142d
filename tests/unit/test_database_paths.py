"""A database of a server (``<SERVICE>_POSTGRES_DB=*``) where its name meets people and
URLs: shown so it never makes a line of its own, named off-site only when it is there, and
named for what it is when its server never lets ``*`` back it up."""

from __future__ import annotations

import logging
from urllib.parse import unquote

import pytest

from pg_backup_manager.adapters.monitoring.notifications import errors_of, message
from pg_backup_manager.adapters.offsite.bucket import url_path
from pg_backup_manager.domain.database_names import printable
from pg_backup_manager.domain.errors import ConfigurationError, UnknownDatabaseError
from pg_backup_manager.domain.history import Operation, Outcome, RunRecord
from pg_backup_manager.entrypoints.main import PrintableFormatter
from pg_backup_manager.entrypoints.rendering.backups import Line, block, document

from .fakes import FakeClock, FakeOffsiteStore, Fakes
from .test_every_database import targets

SPOOF = "evil\nmain/app: created"


def test_a_character_that_does_not_print_is_written_as_python_writes_it() -> None:
    assert printable("a\nb\tc\x1bd\u2028e") == "a\\nb\\tc\\x1bd\\u2028e"
    assert printable("my db café Sales") == "my db café Sales"


def test_a_line_is_shown_printable_while_a_block_and_a_document_keep_their_lines() -> None:
    assert Line(f"main/{SPOOF}: ok").shown == "main/evil\\nmain/app: created: ok"
    assert block([f"main/{SPOOF}", "next"]).shown == "main/evil\\nmain/app: created\nnext"
    assert document('{\n  "database": "main/evil\\nx"\n}').shown.count("\n") == 2


def test_notifications_and_logs_show_a_name_printable() -> None:
    at = FakeClock().now()
    record = RunRecord(
        operation=Operation.DUMP, started_at=at, finished_at=at, outcome=Outcome.FAILURE
    )
    log = logging.LogRecord("x", logging.WARNING, "x", 1, "%s: failed", (f"main/{SPOOF}",), None)

    title, body = message(f"main/{SPOOF}", record)
    fail = errors_of("main", {f"main/{SPOOF}": "boom"})
    logged = PrintableFormatter("%(message)s").format(log)

    assert "\n" not in title
    assert body.splitlines()[0] == "database: main/evil\\nmain/app: created"
    assert fail == "main/evil\\nmain/app: created: boom"
    assert logged == "main/evil\\nmain/app: created: failed"


def test_a_key_is_a_url_path_whose_unquoting_gives_it_back() -> None:
    key = "prefix/main/a%2Fb/file_daily_2024-07-04T09:00:00Z.dump"

    path = url_path(key)

    assert path == "prefix/main/a%252Fb/file_daily_2024-07-04T09:00:00Z.dump"
    assert unquote(path) == key


def test_an_off_site_command_refuses_a_name_known_neither_here_nor_off_site() -> None:
    fakes = Fakes()
    offsite = FakeOffsiteStore()
    offsite.copied["main/there"] = {}

    found = targets(fakes).named("main/there", all_=False, offsite=offsite)
    one = targets(fakes).one("main/there", offsite=offsite)

    assert [d.identifier for d in found] == ["main/there"] == [one.identifier]
    with pytest.raises(UnknownDatabaseError, match=r"'main/typo'.* nor off-site"):
        targets(fakes).named("main/typo", all_=False, offsite=offsite)
    with pytest.raises(UnknownDatabaseError, match=r"'main/typo'.* nor off-site"):
        targets(fakes).one("main/typo", offsite=offsite)


@pytest.mark.parametrize(
    ("why", "said"),
    [("template", "is a template"), ("no connections", "does not accept connections")],
)
def test_a_database_star_never_backs_up_is_named_for_what_it_is(why: str, said: str) -> None:
    fakes = Fakes()
    fakes.servers.has["main"] = ["app"]
    fakes.servers.not_listed["closed"] = why

    with pytest.raises(ConfigurationError, match=f"'main/closed' {said}"):
        targets(fakes).to_dump("main/closed", all_=False, server=fakes.servers)
    with pytest.raises(UnknownDatabaseError, match="has no database 'absent'"):
        targets(fakes).to_dump("main/absent", all_=False, server=fakes.servers)
