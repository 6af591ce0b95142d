"""The domain depends on nothing but the standard library and attrs."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pg_backup_manager.domain

DOMAIN = Path(pg_backup_manager.domain.__file__).parent
ALLOWED = {"attrs", "pg_backup_manager"} | set(sys.stdlib_module_names)
FORBIDDEN_STDLIB = {"os", "subprocess", "shutil", "socket", "time", "signal", "io", "tempfile"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_the_domain_imports_only_the_standard_library_attrs_and_itself() -> None:
    offending = {
        f"{path.name}: {name}"
        for path in DOMAIN.glob("*.py")
        for name in imported_modules(path)
        if name.split(".")[0] not in ALLOWED
        or name.split(".")[0] in FORBIDDEN_STDLIB
        or (
            name.startswith("pg_backup_manager") and not name.startswith("pg_backup_manager.domain")
        )
    }

    assert offending == set()


def test_the_domain_never_reads_the_real_clock_or_the_environment() -> None:
    calls = {
        f"{path.name}: {needle}"
        for path in DOMAIN.glob("*.py")
        for needle in ("datetime.now(", "date.today(", ".utcnow(", "getenv(", "open(")
        if needle in path.read_text()
    }

    assert calls == set()
