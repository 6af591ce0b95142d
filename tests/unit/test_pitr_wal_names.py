from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pg_backup_manager.domain.pitr.wal_names import (
    SegmentFile,
    TimelineSwitch,
    format_lsn,
    history_name,
    history_timeline,
    is_segment_size,
    lsn_of,
    next_segment_name,
    parse_history,
    parse_lsn,
    segment_from_text,
    segment_name,
    segment_of,
    segment_start,
)

MiB = 1024 * 1024
SIZES = st.sampled_from([MiB << shift for shift in range(11)])
TIMELINES = st.integers(min_value=1, max_value=2**32 - 1)
LSNS = st.integers(min_value=0, max_value=2**64 - 1)


def test_an_lsn_is_printed_as_postgresql_prints_it() -> None:
    assert format_lsn(0x16B374D848) == "16/B374D848"
    assert format_lsn(0) == "0/0"
    assert format_lsn(0x1_0000_0001) == "1/1"


def test_an_lsn_is_read_in_either_case() -> None:
    assert parse_lsn("16/B374D848") == 0x16B374D848
    assert parse_lsn("16/b374d848") == 0x16B374D848
    assert parse_lsn("FFFFFFFF/FFFFFFFF") == 2**64 - 1


@pytest.mark.parametrize(
    "text", ["", "16", "16/", "/1", "123456789/0", "0/123456789", " 0/0", "0/0\n", "g/0", "+1/0"]
)
def test_anything_else_is_no_lsn(text: str) -> None:
    assert parse_lsn(text) is None


@given(LSNS)
def test_an_lsn_reads_back_as_it_was_printed(lsn: int) -> None:
    assert parse_lsn(format_lsn(lsn)) == lsn


@pytest.mark.parametrize("lsn", [-1, 2**64])
def test_no_lsn_is_printed_outside_64_bits(lsn: int) -> None:
    with pytest.raises(ValueError, match="not a WAL location"):
        format_lsn(lsn)


def test_segment_sizes_are_powers_of_two_from_1_mib_to_1_gib() -> None:
    assert all(is_segment_size(MiB << shift) for shift in range(11))
    assert not any(is_segment_size(size) for size in (0, MiB // 2, 3 * MiB, 2048 * MiB, -MiB))


def test_a_segment_is_named_by_timeline_log_and_segment_within_the_log() -> None:
    lsn = parse_lsn("16/B374D848")
    assert lsn is not None

    assert segment_name(1, segment_of(lsn, 16 * MiB), 16 * MiB) == "0000000100000016000000B3"
    assert segment_name(0x1A, segment_of(lsn, 64 * MiB), 64 * MiB) == "0000001A000000160000002C"


def test_a_log_holds_as_many_segments_as_fit_in_4_gib() -> None:
    assert segment_name(1, 4, 1024 * MiB) == "000000010000000100000000"
    assert segment_name(1, 4096, MiB) == "000000010000000100000000"


@given(TIMELINES, st.integers(min_value=0, max_value=2**34 - 1), SIZES, st.booleans())
def test_a_segment_name_reads_back_as_it_was_written(
    timeline: int, number: int, size: int, partial: bool
) -> None:
    name = segment_name(timeline, number, size) + (".partial" if partial else "")

    assert segment_from_text(name, size) == SegmentFile(
        timeline=timeline, number=number, partial=partial
    )


@given(LSNS, SIZES)
def test_the_segment_of_an_lsn_begins_at_or_before_it_and_ends_after_it(
    lsn: int, size: int
) -> None:
    number = segment_of(lsn, size)

    assert segment_start(number, size) <= lsn < segment_start(number + 1, size)


@pytest.mark.parametrize(
    "text",
    [
        "0000000100000016000000b3",  # lower case: PostgreSQL never writes it
        "0000000000000016000000B3",  # timeline 0
        "000000010000001600000100",  # past the 256 segments of a 16 MiB log
        "0000000100000016000000B",
        "0000000100000016000000B3.partial.partial",
        "0000000100000016000000B3.gz",
        "0000000100000016000000B3.sha256",
        "wal/0000000100000016000000B3",
        "00000002.history",
        "0000000100000016000000B3.00000028.backup",
    ],
)
def test_anything_else_is_no_segment(text: str) -> None:
    assert segment_from_text(text, 16 * MiB) is None


def test_a_segment_valid_for_small_segments_is_none_for_large_ones() -> None:
    assert segment_from_text("000000010000000000000004", MiB) is not None
    assert segment_from_text("000000010000000000000004", 1024 * MiB) is None


def test_the_next_segment_crosses_the_end_of_a_log() -> None:
    assert next_segment_name("0000000100000016000000B3", 16 * MiB) == "0000000100000016000000B4"
    assert next_segment_name("0000000100000000000000FF", 16 * MiB) == "000000010000000100000000"
    assert next_segment_name("000000010000000000000FFF", MiB) == "000000010000000100000000"


def test_a_partial_or_another_file_has_no_next_segment() -> None:
    assert next_segment_name("0000000100000016000000B3.partial", 16 * MiB) is None
    assert next_segment_name("00000002.history", 16 * MiB) is None


@pytest.mark.parametrize(
    ("timeline", "number", "size"),
    [(0, 1, 16 * MiB), (2**32, 1, 16 * MiB), (1, -1, 16 * MiB), (1, 2**56, 16 * MiB), (1, 1, 3)],
)
def test_no_name_is_built_for_numbers_no_server_writes(
    timeline: int, number: int, size: int
) -> None:
    with pytest.raises(ValueError, match="not a"):
        segment_name(timeline, number, size)


def test_a_history_file_is_named_by_its_timeline() -> None:
    assert history_name(2) == "00000002.history"
    assert history_name(0x1A) == "0000001A.history"
    assert history_timeline("0000001A.history") == 0x1A


@given(st.integers(min_value=2, max_value=2**32 - 1))
def test_a_history_name_reads_back_as_it_was_written(timeline: int) -> None:
    assert history_timeline(history_name(timeline)) == timeline


@pytest.mark.parametrize(
    "text", ["00000001.history", "0000001a.history", "1A.history", "00000002.history.sha256"]
)
def test_anything_else_is_no_history_name(text: str) -> None:
    assert history_timeline(text) is None


def test_a_history_lists_each_parent_and_where_it_was_left() -> None:
    text = (
        "1\t0/3000158\tno recovery target specified\n"
        "\n"
        "# written by hand\n"
        "  2\t0/5000098\tbefore 10:00\tstill the reason\n"
        "3\t0/7000000\n"
    )

    assert parse_history(text) == (
        TimelineSwitch(parent=1, switchpoint=0x3000158, reason="no recovery target specified"),
        TimelineSwitch(parent=2, switchpoint=0x5000098, reason="before 10:00\tstill the reason"),
        TimelineSwitch(parent=3, switchpoint=0x7000000, reason=""),
    )


def test_an_empty_history_has_no_switch() -> None:
    assert parse_history("") == ()
    assert parse_history("# nothing\n\n") == ()


@pytest.mark.parametrize(
    "text",
    [
        "1\n",  # no switchpoint
        "one\t0/3000158\treason\n",
        "1\t0-3000158\treason\n",
        "0\t0/3000158\treason\n",
        "2\t0/3000158\tx\n1\t0/5000000\ty\n",  # parents must increase
        "1\t0/3000158\tx\n1\t0/5000000\ty\n",
        "\u0661\t0/3000158\tx\n",  # an Arabic-Indic digit is not a timeline
    ],
)
def test_a_text_the_server_would_refuse_is_no_history(text: str) -> None:
    assert parse_history(text) is None


def test_lsn_of_refuses_what_is_not_a_location() -> None:
    assert lsn_of(" 16/B374D848\n") == 0x16B374D848
    with pytest.raises(ValueError, match="not a WAL location"):
        lsn_of("2000028")
