"""Start-up imports only what a command needs: ``--help`` and ``list`` never import the
PostgreSQL tools' adapters, plumbum, boto3 or Apprise (the container imports each class
when it is first built)."""

from __future__ import annotations

import subprocess
import sys

from .process import Controller, hand_to_postgres
from .servers import DEAD_PORT, PG_A

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
    hand_to_postgres(controller.workdir)  # main becomes postgres, as the controller does

    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=controller.workdir,
        env=controller.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.stdout.splitlines()[-1] == "[0, 0, 0] []", result
