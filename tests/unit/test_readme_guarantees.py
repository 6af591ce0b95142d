"""Each promise of the README's Guarantees table names tests that exist."""

from __future__ import annotations

import re
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]
SECTION = "## Guarantees"
TEST_FILE = re.compile(r"((?:unit|integration|e2e)/[\w/]+\.py)(?:::(\w+))?")
TEST_NAME = re.compile(r"::(\w+)")


def guarantees() -> list[str]:
    """Return the rows of the Guarantees table, its header and rule left out."""
    readme = (REPOSITORY / "README.md").read_text()
    start = readme.index(SECTION)
    end = readme.index("\n## ", start + len(SECTION))
    rows = [line for line in readme[start:end].splitlines() if line.startswith("| ")]
    return rows[2:]


def named_tests(row: str) -> list[tuple[str, str | None]]:
    """Return each (test file, test name or None) the row's last cell names; ``::name``
    alone is a test of the file named before it."""
    named: list[tuple[str, str | None]] = []
    current = None
    for token in re.findall(r"`([^`]+)`", row.rstrip(" |").rsplit(" | ", 1)[-1]):
        if found := TEST_FILE.fullmatch(token):
            current = found.group(1)
            named.append((current, found.group(2)))
        elif (alone := TEST_NAME.fullmatch(token)) and current is not None:
            named.append((current, alone.group(1)))
    return named


def test_every_guarantee_names_at_least_one_test_and_each_exists() -> None:
    rows = guarantees()
    missing = []
    unproved = []

    for row in rows:
        tests = named_tests(row)
        if not tests:
            unproved.append(row[:80])
        for file, name in tests:
            path = REPOSITORY / "tests" / file
            if not path.is_file():
                missing.append(file)
            elif name is not None and not re.search(rf"def {name}\b", path.read_text()):
                missing.append(f"{file}::{name}")

    assert len(rows) > 30
    assert unproved == []
    assert missing == []
