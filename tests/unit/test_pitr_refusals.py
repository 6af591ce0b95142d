"""A server's refusal of replication, said in one line: the server's words of
PostgreSQL 15 and of 16 and later, as ``psql`` reports them through the controller."""

from __future__ import annotations

import pytest

from pg_backup_manager.adapters.pitr.refusals import Cause, cause_of, refusal
from pg_backup_manager.adapters.pitr.replication import identity_from
from pg_backup_manager.domain.errors import ReplicationRefusedError, ToolError

from .fakes import database

USERS = database("users", host="db.internal", port=5433, user="app", password="s3cret-password")
CONNECTION = (
    "psql on users (db.internal:5433) failed (exit 2): psql: error: connection to server "
    'at "db.internal" (10.0.0.5), port 5433 failed: FATAL:  '
)
QUERY = "psql on users (db.internal:5433) failed (exit 3): ERROR:  "
# The server's own words, by version (PostgreSQL's source: postinit.c, proc.c, slot.c).
NO_HBA_LINE = (
    'no pg_hba.conf entry for replication connection from host "172.18.0.7", user "app", '
    "no encryption"
)
NO_ATTRIBUTE_15 = "must be superuser or replication role to start walsender"
NO_ATTRIBUTE_16 = (
    "permission denied to start WAL sender | DETAIL:  Only roles with the REPLICATION "
    "attribute may start a WAL sender process."
)
NO_SLOT_ATTRIBUTE_15 = "must be superuser or replication role to use replication slots"
NO_SLOT_ATTRIBUTE_16 = (
    "permission denied to use replication slots | DETAIL:  Only roles with the REPLICATION "
    "attribute may use replication slots."
)
NO_SENDERS = "number of requested standby connections exceeds max_wal_senders (currently 0)"
SENDERS_BUSY = "number of requested standby connections exceeds max_wal_senders (currently 3)"
SLOTS_OFF = "replication slots can only be used if max_replication_slots > 0"
SLOTS_FULL = "all replication slots are in use | HINT:  Free one or increase max_replication_slots."
SLOTS_WAL_LEVEL = "replication slots can only be used if wal_level >= replica"


def refused(said: str, *, wal_level: str | None = "replica") -> str:
    error = refusal(said, USERS, wal_level=lambda: wal_level)
    assert isinstance(error, ReplicationRefusedError)
    return str(error)


@pytest.mark.parametrize(
    ("said", "cause"),
    [
        (NO_HBA_LINE, Cause.NO_HBA_LINE),
        (NO_ATTRIBUTE_15, Cause.NO_ATTRIBUTE),
        (NO_ATTRIBUTE_16, Cause.NO_ATTRIBUTE),
        (NO_SLOT_ATTRIBUTE_15, Cause.NO_ATTRIBUTE),
        (NO_SLOT_ATTRIBUTE_16, Cause.NO_ATTRIBUTE),
        (NO_SENDERS, Cause.NO_SENDERS),
        (SLOTS_OFF, Cause.SLOTS_OFF),
        (SLOTS_FULL, Cause.SLOTS_FULL),
        (SLOTS_WAL_LEVEL, Cause.WAL_LEVEL_MINIMAL),
        ('replication slot "x" already exists', None),
    ],
)
def test_each_server_refusal_of_15_and_of_16_and_later_is_known_by_its_words(
    said: str, cause: Cause | None
) -> None:
    assert cause_of(QUERY + said.upper()) is cause


def test_a_missing_hba_line_says_the_line_to_add_and_how_to_load_it() -> None:
    line = refused(CONNECTION + NO_HBA_LINE)

    assert line == (
        "users: the server at db.internal:5433 has no pg_hba.conf line for replication "
        'connections of user "app" (it sees this controller as 172.18.0.7): add '
        '"host replication app all scram-sha-256" to its pg_hba.conf, then run '
        "SELECT pg_reload_conf()"
    )


@pytest.mark.parametrize("said", [NO_ATTRIBUTE_15, NO_ATTRIBUTE_16])
def test_a_user_without_replication_is_told_the_statement_that_gives_it(said: str) -> None:
    line = refused(CONNECTION + said)

    assert line == (
        'users: the server at db.internal:5433 says user "app" lacks the REPLICATION '
        "attribute: run ALTER ROLE app REPLICATION as a superuser"
    )


def test_a_user_name_that_needs_quotes_is_quoted_in_the_statement_and_the_hba_line() -> None:
    odd = database("users", user='Ops "team"')

    no_attribute = str(refusal(CONNECTION + NO_ATTRIBUTE_15, odd, wal_level=lambda: None))
    no_line = str(refusal(CONNECTION + NO_HBA_LINE, odd, wal_level=lambda: None))

    assert 'ALTER ROLE "Ops ""team""" REPLICATION' in no_attribute
    assert '"host replication "Ops ""team""" all scram-sha-256"' in no_line


def test_no_wal_senders_says_to_set_them_and_restart() -> None:
    line = refused(CONNECTION + NO_SENDERS)

    assert line == (
        "users: the server at db.internal:5433 allows no replication connections "
        "(max_wal_senders = 0): set max_wal_senders to 10 (the default; the receiver takes "
        "one, each base backup two) and restart the server"
    )


def test_every_wal_sender_in_use_says_to_raise_them() -> None:
    line = refused(CONNECTION + SENDERS_BUSY)

    assert "has every replication connection in use (max_wal_senders = 3): raise" in line


def test_no_wal_senders_because_wal_level_is_minimal_says_to_set_wal_level() -> None:
    asked: list[str] = []

    def minimal() -> str:
        asked.append("wal_level")
        return "minimal"

    line = str(refusal(CONNECTION + NO_SENDERS, USERS, wal_level=minimal))

    assert asked == ["wal_level"]
    assert line == (
        "users: the server at db.internal:5433 has wal_level = minimal, which allows no "
        "replication: set wal_level = replica (and max_wal_senders = 10, the default) and "
        "restart the server"
    )


def test_wal_level_is_asked_only_when_the_refusal_could_be_it() -> None:
    def never() -> str:
        raise AssertionError("asked")

    line = str(refusal(CONNECTION + NO_ATTRIBUTE_15, USERS, wal_level=never))

    assert "REPLICATION attribute" in line


def test_a_wal_level_that_cannot_be_asked_leaves_the_senders_line() -> None:
    assert "max_wal_senders = 0" in refused(CONNECTION + NO_SENDERS, wal_level=None)


def test_slots_turned_off_or_all_in_use_say_what_to_change() -> None:
    off = refused(QUERY + SLOTS_OFF)
    full = refused(QUERY + SLOTS_FULL)

    assert off == (
        "users: the server at db.internal:5433 has replication slots turned off "
        "(max_replication_slots = 0): set max_replication_slots to 10 (the default) and "
        "restart the server"
    )
    assert full.startswith("users: the server at db.internal:5433 has every replication slot ")
    assert "raise max_replication_slots" in full


def test_a_wrong_password_keeps_the_words_every_tool_uses() -> None:
    said = (
        CONNECTION + 'password authentication failed for user "app" '
        "(check USERS_POSTGRES_USER and USERS_POSTGRES_PASSWORD)"
    )

    error = refusal(said, USERS, wal_level=lambda: None)

    assert type(error) is ToolError
    assert str(error) == said


def test_a_server_that_does_not_answer_is_no_refusal() -> None:
    said = (
        "psql on users (db.internal:5433) failed (exit 2): psql: error: connection to server "
        'at "db.internal", port 5433 failed: Connection refused (is the server up? check '
        "USERS_POSTGRES_HOST and _PORT)"
    )

    assert type(refusal(said, USERS, wal_level=lambda: None)) is ToolError


def test_an_unknown_refusal_says_the_servers_own_last_words_on_one_line() -> None:
    said = CONNECTION + "the database system is starting up | DETAIL:  more"

    line = refused(said)

    assert line == (
        "users: the server at db.internal:5433 refused the replication connection: "
        "the database system is starting up"
    )


def test_no_refusal_line_holds_the_password() -> None:
    for said in (NO_HBA_LINE, NO_ATTRIBUTE_16, NO_SENDERS, SLOTS_OFF, SLOTS_FULL, "odd"):
        error = refusal(CONNECTION + said, USERS, wal_level=lambda: "minimal")

        assert USERS.password not in str(error)
        assert "\n" not in str(error)


def test_the_identity_is_read_from_psqls_three_answers() -> None:
    out = "7715593717083397416\t1\t16/B374D848\t\n16MB\n150020\n"

    identity = identity_from(out, what="psql on users")

    assert identity.system_identifier == "7715593717083397416"
    assert identity.timeline == 1
    assert identity.current_lsn == 0x16_B374D848
    assert identity.wal_segment_size == 16 * 1024 * 1024
    assert identity.server_major == 15


@pytest.mark.parametrize(
    ("shown", "size"), [("1MB", 1 << 20), ("1GB", 1 << 30), ("64MB", 64 << 20)]
)
def test_each_wal_segment_size_initdb_allows_is_read_in_bytes(shown: str, size: int) -> None:
    out = f"7715593717083397416\t2\t0/1000000\t\n{shown}\n180001\n"

    identity = identity_from(out, what="psql on users")

    assert identity.wal_segment_size == size
    assert identity.server_major == 18


@pytest.mark.parametrize(
    "out", ["", "ERROR\n", "x\t1\t0/1\t\n16MB\n150020\n", "1\t1\t0/1\t\n16 parsecs\n150020\n"]
)
def test_an_answer_that_is_no_identity_is_a_tool_error_naming_it(out: str) -> None:
    with pytest.raises(ToolError, match="psql on users: unexpected answer to IDENTIFY_SYSTEM"):
        identity_from(out, what="psql on users")
