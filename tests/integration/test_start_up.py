"""Start-up imports only what a command needs: ``--help`` and ``list`` never import the
PostgreSQL tools' adapters, plumbum, boto3 or Apprise (the container imports each class
when it is first built), ``--version`` only plumbum to run each tool; and ``--version``
names the real tools with their versions."""

from __future__ import annotations

import subprocess
from importlib import metadata

from .process import Controller, python_as_controller
from .servers import DEAD_PORT, PG_A, PG_BIN

HEAVY = (
    "boto3",
    "apprise",
    "plumbum",
    "pg_backup_manager.adapters.postgres.pg_dump",
    "pg_backup_manager.adapters.postgres.pg_restore",
    "pg_backup_manager.adapters.postgres.psql_server",
    "pg_backup_manager.adapters.offsite.s3.bucket",
    "pg_backup_manager.adapters.monitoring.notifications",
)


def test_help_and_list_never_import_the_postgresql_adapters_boto3_or_apprise(
    controller: Controller,
) -> None:
    controller.add_database("a", PG_A, port=DEAD_PORT)
    controller.env.update({"OFFSITE_URL": "s3://bucket/site", "NOTIFY_URLS": "json://localhost"})
    script = (
        "import sys\n"
        "from pg_backup_manager.entrypoints.main import main\n"
        "codes = [main(['--help']), main(['list', 'a']), main(['restore', '--help'])]\n"
        f"print(codes, sorted(name for name in {HEAVY!r} if name in sys.modules))\n"
    )

    result = python_as_controller(controller, script)

    assert result.stdout.splitlines()[-1] == "[0, 0, 0] []", result


def test_version_imports_no_adapter_of_a_command_boto3_or_apprise(controller: Controller) -> None:
    script = (
        "import sys\n"
        "from pg_backup_manager.entrypoints.main import main\n"
        "code = main(['--version'])\n"
        f"print(code, sorted(name for name in {HEAVY!r} if name in sys.modules))\n"
    )

    result = python_as_controller(controller, script)

    # plumbum runs each tool's --version; nothing else of HEAVY is needed.
    assert result.stdout.splitlines()[-1] == "0 ['plumbum']", result


def test_version_names_the_controller_and_each_tool_with_its_version_without_configuration(
    controller: Controller,
) -> None:
    controller.env["PG_BIN_DIR"] = str(PG_BIN)
    said = subprocess.run(
        [str(PG_BIN / "pg_dump"), "--version"], capture_output=True, text=True, check=True
    ).stdout.split()[2]

    run = controller("--version")

    lines = run.stdout.splitlines()
    assert run.returncode == 0, run
    assert lines[0] == f"controller {metadata.version('docker-postgres-backup-manager')}"
    assert lines[1:5] == [
        f"{tool} {said} at {PG_BIN / tool} (PG_BIN_DIR)"
        for tool in ("pg_dump", "pg_dumpall", "pg_restore", "psql")
    ]
    assert lines[5].startswith("pg_resetwal of PostgreSQL ")


def test_version_with_the_tools_missing_says_so_and_exits_0(controller: Controller) -> None:
    controller.env["PG_BIN_DIR"] = str(controller.workdir)

    run = controller("--version")

    assert run.returncode == 0, run
    assert f"pg_dump of PG_BIN_DIR not found at {controller.workdir / 'pg_dump'}" in run.stdout
