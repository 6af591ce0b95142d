"""The controller as a real process of the virtualenv, and what each of its runs must show.

Each test runs ``controller`` in its own working directory with exactly the
environment it gives (``Controller``); started as root, the controller becomes
the postgres user, who is handed the directory first (``hand_to_postgres``).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import attrs
import pytest

from pg_backup_manager.adapters.monitoring.run_history import HISTORY_NAME

from .servers import APP_DB, PG_BIN, PgServer

CONTROLLER = Path(sys.executable).parent / "controller"
CONTROLLER_TIMEOUT_S = 180.0
BACKUP_NAME_PATTERN = r"file_(daily|weekly|monthly)_\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\.dump"
GLOBALS_NAME_PATTERN = BACKUP_NAME_PATTERN.removesuffix(r"\.dump") + r"\.globals\.sql"


@attrs.frozen
class Run:
    """What one run of the controller did."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def __str__(self) -> str:
        return (
            f"controller {' '.join(self.args)} exited {self.returncode}\n"
            f"--- stdout ---\n{self.stdout}--- stderr ---\n{self.stderr}"
        )


@attrs.define
class Controller:
    """Runs ``controller`` in ``workdir`` with exactly the environment in ``env``.

    Every run also checks what must hold for any command: no traceback, and no
    configured password in its output.
    """

    workdir: Path
    env: dict[str, str]

    def add_database(
        self,
        ident: str,
        server: PgServer,
        *,
        db: str = APP_DB,
        port: int | None = None,
        password: str | None = None,
    ) -> None:
        """Appends ``ident`` to DATABASE_LIST, with the variables that point it at ``server``."""
        prefix = ident.upper().replace("-", "_")
        self.env[f"{prefix}_POSTGRES_HOST"] = server.host
        self.env[f"{prefix}_POSTGRES_PORT"] = str(port or server.port)
        self.env[f"{prefix}_POSTGRES_USER"] = server.user
        self.env[f"{prefix}_POSTGRES_PASSWORD"] = password or server.password
        self.env[f"{prefix}_POSTGRES_DB"] = db
        idents = [i for i in self.env.get("DATABASE_LIST", "").split(",") if i]
        self.env["DATABASE_LIST"] = ",".join([*idents, ident])

    def __call__(self, *args: str, as_user: str | None = None) -> Run:
        if not CONTROLLER.exists():
            pytest.fail(f"{CONTROLLER} does not exist: run ./scripts/test", pytrace=False)
        hand_to_postgres(self.workdir)
        argv = [str(CONTROLLER), *args]
        if as_user is not None:
            argv = ["/usr/sbin/runuser", "-u", as_user, "--", *argv]
        completed = subprocess.run(
            argv,
            cwd=self.workdir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=CONTROLLER_TIMEOUT_S,
            check=False,
        )
        run = Run(tuple(args), completed.returncode, completed.stdout, completed.stderr)
        print(run)  # pytest shows it with the report of a failing test
        assert "Traceback" not in run.output, run
        for name, value in self.env.items():
            if name.endswith("_POSTGRES_PASSWORD") and value:
                assert value not in run.output, f"{name}'s value is in the output\n{run}"
        return run

    def data_dir(self, ident: str) -> Path:
        return self.workdir / "backup-data" / "data" / ident

    def shared_file(self, ident: str) -> Path:
        return self.workdir / "backup-data" / "shared" / ident / "file.dump"

    def database_dir(self, ident: str) -> Path:
        return self.workdir / "backup-data" / "databases" / ident

    def backups(self, ident: str) -> list[str]:
        """Names in ``ident``'s backup directory but checksum files, the run history and
        the globals kept beside backups, sorted; [] if absent.

        Temporary and foreign files count: a test that expects no backup
        expects nothing else either.
        """
        return [
            name
            for name in self.files(ident)
            if not name.endswith(".sha256")
            and name != HISTORY_NAME
            and not re.fullmatch(GLOBALS_NAME_PATTERN, name)
        ]

    def files(self, ident: str) -> list[str]:
        """Names of everything in ``ident``'s backup directory, sorted; [] if absent."""
        directory = self.data_dir(ident)
        return sorted(p.name for p in directory.iterdir()) if directory.is_dir() else []


def hand_to_postgres(directory: Path) -> None:
    """Give ``directory`` and all in it to postgres, as the container's entrypoint does.

    Started as root, the controller becomes the postgres user; that user must
    reach ``directory`` (pytest makes its parents 0700) and own what the test
    planted there.
    """
    for parent in [directory, *directory.parents]:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            parent.chmod(mode | 0o001)
    chown = ["chown", "-R", "postgres:postgres", str(directory)]
    done = subprocess.run(chown, capture_output=True, text=True, check=False, timeout=60)
    # A running controller (a base backup's staging) may remove files meanwhile: only
    # what stayed must have been handed over.
    failed = [line for line in done.stderr.splitlines() if "No such file or directory" not in line]
    assert not failed, done.stderr


def python_as_controller(controller: Controller, script: str) -> subprocess.CompletedProcess[str]:
    """Run ``script`` in the controller's interpreter, with its environment and directory
    (which postgres is given: ``main`` becomes postgres, as the controller does)."""
    hand_to_postgres(controller.workdir)
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=controller.workdir,
        env=controller.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def spawn_in_group(controller: Controller, *args: str) -> subprocess.Popen[str]:
    """Start ``controller *args`` in a process group of its own (so a test can kill it with
    every program it started), its output piped."""
    hand_to_postgres(controller.workdir)
    return subprocess.Popen(
        [str(CONTROLLER), *args],
        cwd=controller.workdir,
        env=controller.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def assert_one_line_error(run: Run, code: int) -> None:
    """The run failed with ``code`` and said why in one line on stderr, starting 'error: '."""
    assert run.returncode == code, run
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run
    assert lines[0].startswith("error: "), run


def pg_restore_list(dump: Path) -> str:
    """The table of contents of a custom-format dump; fails if pg_restore cannot read it."""
    result = subprocess.run(
        [str(PG_BIN / "pg_restore"), "--list", str(dump)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"{dump} is not a readable dump: {result.stderr}"
    return result.stdout
