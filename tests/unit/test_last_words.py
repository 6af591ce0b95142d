"""What a failed program said, as the controller repeats it: the cause, on one line."""

from __future__ import annotations

from pg_backup_manager.adapters.tool_output import last_words


def test_the_lines_that_carry_the_cause_are_preferred_over_context() -> None:
    said = b"pg_dump: dumping contents of table x\npg_dump: error: query failed: boom\n"

    assert last_words(said, ()) == "pg_dump: error: query failed: boom"


def test_a_hint_alone_never_hides_the_line_it_follows() -> None:
    said = (
        b"/usr/lib/postgresql/15/bin/pg_dump: unrecognized option '--no-policies'\n"
        b'pg_dump: hint: Try "pg_dump --help" for more information.\n'
    )

    words = last_words(said, ())

    assert "unrecognized option '--no-policies'" in words
    assert words.endswith('Try "pg_dump --help" for more information.')


def test_a_password_is_blanked() -> None:
    assert last_words(b"FATAL: bad secret-pw-123\n", ("secret-pw-123",)) == "FATAL: bad ***"
