"""Dependencies point inward: the domain depends on nothing but the standard library and
attrs, a capability of the domain on no adapter, and adapters on no entrypoint."""

from __future__ import annotations

import ast
import sys
import tomllib
from pathlib import Path

import pg_backup_manager

PACKAGE = Path(pg_backup_manager.__file__).parent
DOMAIN = PACKAGE / "domain"
ADAPTERS = PACKAGE / "adapters"
CAPABILITIES = sorted(path for path in DOMAIN.iterdir() if (path / "__init__.py").is_file())
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
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            names.add("relative import")  # spelled out in full, so that these checks see it
    return names


def imports_of(folder: Path) -> set[tuple[str, str]]:
    return {
        (str(path.relative_to(PACKAGE)), name)
        for path in folder.rglob("*.py")
        for name in imported_modules(path)
    }


def test_the_domain_has_capability_folders_to_check() -> None:
    assert {path.name for path in CAPABILITIES} >= {"backups", "offsite", "restore"}


def test_the_domain_imports_only_the_standard_library_attrs_and_itself() -> None:
    offending = {
        f"{path}: {name}"
        for path, name in imports_of(DOMAIN)
        if name.split(".")[0] not in ALLOWED
        or name.split(".")[0] in FORBIDDEN_STDLIB
        or (
            name.startswith("pg_backup_manager") and not name.startswith("pg_backup_manager.domain")
        )
    }

    assert offending == set()


def test_no_capability_folder_of_the_domain_imports_an_adapter_or_an_entrypoint() -> None:
    offending = {
        f"{path}: {name}"
        for capability in CAPABILITIES
        for path, name in imports_of(capability)
        if name.startswith(("pg_backup_manager.adapters", "pg_backup_manager.entrypoints"))
        or name == "relative import"
    }

    assert offending == set()


def test_what_the_domain_shares_imports_no_capability() -> None:
    offending = {
        f"{path.name}: {name}"
        for path in DOMAIN.glob("*.py")
        for name in imported_modules(path)
        if any(name.startswith(f"pg_backup_manager.domain.{c.name}") for c in CAPABILITIES)
    }

    assert offending == set()


def test_adapters_never_import_an_entrypoint() -> None:
    offending = {
        f"{path}: {name}"
        for path, name in imports_of(ADAPTERS)
        if name.startswith("pg_backup_manager.entrypoints") or name == "relative import"
    }

    assert offending == set()


def test_the_domain_never_reads_the_real_clock_or_the_environment() -> None:
    calls = {
        f"{path.relative_to(DOMAIN)}: {needle}"
        for path in DOMAIN.rglob("*.py")
        for needle in ("datetime.now(", "date.today(", ".utcnow(", "getenv(", "open(")
        if needle in path.read_text()
    }

    assert calls == set()


UNIT_TESTS = Path(__file__).resolve().parent
# What runs a program, and the helpers of the tests that do (they live in tests/integration).
PROCESS_MODULES = {"subprocess", "plumbum", "pexpect", "sh"}


def test_no_unit_test_module_imports_what_runs_a_program() -> None:
    offending = set()
    # conftest.py is the guard that makes any program a unit test starts fail.
    for path in set(UNIT_TESTS.rglob("*.py")) - {UNIT_TESTS / "conftest.py"}:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                # ``from ..integration import age_keys`` as much as ``from tests import age_keys``
                names = [
                    f"{'.' * node.level}{node.module or ''}.{alias.name}" for alias in node.names
                ]
            else:
                continue
            offending |= {
                f"{path.name}: {name}"
                for name in names
                if name.split(".")[0] in PROCESS_MODULES
                or "integration" in name.split(".")
                or "age_keys" in name.split(".")
            }

    assert offending == set()


def test_every_folder_of_the_source_is_a_package_that_is_installed() -> None:
    """A folder missing from pyproject's list would be left out of the image, silently."""
    repository = Path(__file__).resolve().parents[2]
    listed = tomllib.loads((repository / "pyproject.toml").read_text())["tool"]["setuptools"][
        "packages"
    ]
    folders = {
        ".".join(("pg_backup_manager", *path.parent.relative_to(repository / "src").parts))
        for path in (repository / "src").rglob("*.py")
    }

    assert sorted(name.rstrip(".") for name in folders) == sorted(listed)
    assert all(
        (repository / "src" / Path(*n.split(".")[1:]) / "__init__.py").is_file() for n in listed
    )
