"""``controller --version``: the controller's version and the tools it would run, with
no configuration at all, and a missing tool said on its line (exit 0)."""

from __future__ import annotations

from pathlib import Path

import pytest
from dependency_injector import providers

from pg_backup_manager.adapters.postgres.tool_versions import ClientTool, InstalledTools
from pg_backup_manager.entrypoints import version
from pg_backup_manager.entrypoints.containers import Container
from pg_backup_manager.entrypoints.main import main


def refuse_to_become(user: str) -> None:
    raise AssertionError(f"--version became {user}")


def test_version_needs_no_configuration_and_says_which_tool_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for major in ("17", "15"):
        resetwal = tmp_path / "root" / major / "bin" / "pg_resetwal"
        resetwal.parent.mkdir(parents=True)
        resetwal.touch()
    (tmp_path / "empty").mkdir()
    # No DATABASE_LIST; an empty PG_BIN_DIR, so that no tool runs in a unit test.
    environ = {"PG_BIN_DIR": str(tmp_path / "empty"), "PG_BIN_ROOT": str(tmp_path / "root")}
    container = Container(environ=environ, cwd=tmp_path)
    container.drop_root.override(providers.Object(refuse_to_become))

    code = main(["--version"], container=container)

    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert out[0] == f"controller {version.controller_version()}"
    assert out[1:5] == [
        f"{tool} of PG_BIN_DIR not found at {tmp_path / 'empty' / tool}: install it"
        for tool in ("pg_dump", "pg_dumpall", "pg_restore", "psql")
    ]
    assert out[5].startswith(
        f"pg_resetwal of PostgreSQL 15, 17 at {tmp_path / 'root' / '<major>' / 'bin'}"
    )


def test_each_tool_found_is_shown_with_its_version_and_where_it_was_found() -> None:
    tools = InstalledTools(
        client=(
            ClientTool(
                program="pg_dump",
                path=Path("/usr/lib/postgresql/18/bin/pg_dump"),
                found_by="newest /usr/lib/postgresql/*/bin",
                version="18.1",
            ),
            ClientTool(
                program="psql",
                path=Path("/opt/psql"),
                found_by="PG_BIN_DIR",
                problem="/opt/psql --version failed (exit 127)",
            ),
        ),
        root=Path("/usr/lib/postgresql"),
        resetwal_majors=(),
    )

    text = version.text("1.2.3", tools)

    assert text.splitlines() == [
        "controller 1.2.3",
        "pg_dump 18.1 at /usr/lib/postgresql/18/bin/pg_dump (newest /usr/lib/postgresql/*/bin)",
        "psql at /opt/psql (PG_BIN_DIR): /opt/psql --version failed (exit 127)",
        "pg_resetwal: none at /usr/lib/postgresql/<major>/bin (resetwal cannot run here)",
        "postgres, pg_verifybackup, pg_waldump: none at /usr/lib/postgresql/<major>/bin "
        "(point-in-time recovery cannot check backups here)",
    ]


def test_the_point_in_time_recovery_tools_follow_with_the_majors_that_have_all_three(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "root"
    for major, programs in {
        "15": ("postgres", "pg_verifybackup", "pg_waldump"),
        "17": ("postgres", "pg_verifybackup"),  # no pg_waldump: it cannot check a backup
        "18": ("postgres", "pg_verifybackup", "pg_waldump", "pg_resetwal"),
    }.items():
        (root / major / "bin").mkdir(parents=True)
        for program in programs:
            (root / major / "bin" / program).touch()
    (tmp_path / "empty").mkdir()
    environ = {"PG_BIN_DIR": str(tmp_path / "empty"), "PG_BIN_ROOT": str(root)}
    container = Container(environ=environ, cwd=tmp_path)
    container.drop_root.override(providers.Object(refuse_to_become))

    code = main(["--version"], container=container)

    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert out[5].startswith(f"pg_resetwal of PostgreSQL 18 at {root / '<major>' / 'bin'}")
    assert out[6:] == [
        *(
            f"{tool} of PG_BIN_DIR not found at {tmp_path / 'empty' / tool}: install it"
            for tool in ("pg_basebackup", "pg_receivewal")
        ),
        f"postgres, pg_verifybackup, pg_waldump of PostgreSQL 15, 18 at {root / '<major>' / 'bin'}"
        " (point-in-time recovery checks a server's backups with the ones of its version)",
    ]


def test_without_server_programs_the_point_in_time_recovery_line_says_none() -> None:
    tools = InstalledTools(client=(), root=Path("/usr/lib/postgresql"), resetwal_majors=("17",))

    text = version.text("1.2.3", tools)

    assert text.splitlines()[-1] == (
        "postgres, pg_verifybackup, pg_waldump: none at /usr/lib/postgresql/<major>/bin "
        "(point-in-time recovery cannot check backups here)"
    )


def test_the_version_is_the_projects_as_installed() -> None:
    pyproject = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()

    assert f'version = "{version.controller_version()}"' in pyproject
