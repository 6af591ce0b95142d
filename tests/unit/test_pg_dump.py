"""How BACKUP_COMPRESSION becomes pg_dump's --compress, for old and new tools."""

from __future__ import annotations

from pathlib import Path

import pytest

from pg_backup_manager.adapters.postgres.pg_binaries import PgBinaries
from pg_backup_manager.adapters.postgres.pg_dump import PgDump
from pg_backup_manager.domain.errors import ConfigurationError


def dump(compression: str | None) -> PgDump:
    return PgDump(binaries=PgBinaries(root=Path("/nowhere")), timeout=1, compression=compression)


@pytest.mark.parametrize(
    ("compression", "major", "option"),
    [
        (None, 17, ["--compress=zstd:1"]),
        (None, 15, []),
        ("zstd:3", 16, ["--compress=zstd:3"]),
        ("gzip:9", 17, ["--compress=gzip:9"]),
        ("gzip:9", 15, ["--compress=9"]),
        ("gzip", 15, ["--compress=6"]),
        ("none", 15, ["--compress=0"]),
        ("none", 18, ["--compress=none"]),
        ("4", 15, ["--compress=4"]),
    ],
)
def test_the_compression_is_said_the_way_the_tools_understand_it(
    compression: str | None, major: int, option: list[str]
) -> None:
    assert dump(compression)._compress(major) == option


@pytest.mark.parametrize("compression", ["zstd", "lz4:1"])
def test_zstd_or_lz4_with_tools_older_than_16_is_a_configuration_error(compression: str) -> None:
    with pytest.raises(ConfigurationError, match=r"needs pg_dump 16 or newer.*is 15"):
        dump(compression)._compress(15)
