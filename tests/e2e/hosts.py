"""A host of the end-to-end tests that runs each command in a new container of the
controller image (``docker run --rm`` on the host network), its backup volume a directory
of the test, configured only through its environment and read-only mounts."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import attrs

from ..integration.process import CONTROLLER_TIMEOUT_S, Run
from .stack import CONTROLLER_IMAGE, ContainerStack


@attrs.frozen
class ImageHost:
    """A host that runs each command in a new container of the controller image.

    ``backups`` is its backup volume; ``secret`` (a password or key it is given) must
    never show in what a command prints.
    """

    stack: ContainerStack
    backups: Path
    environment: Mapping[str, str]
    mounts: tuple[str, ...]
    secret: str

    def __call__(self, *args: str) -> Run:
        self.backups.mkdir(mode=0o755, exist_ok=True)
        completed = self.stack.docker(
            "run",
            "--rm",
            "--network=host",
            f"--volume={self.backups}:/var/lib/postgresql/backup",
            *(f"--volume={mount}" for mount in self.mounts),
            *(f"--env={name}={value}" for name, value in self.environment.items()),
            CONTROLLER_IMAGE,
            "/controller",
            *args,
            check=False,
            timeout=CONTROLLER_TIMEOUT_S,
        )
        run = Run(args, completed.returncode, completed.stdout, completed.stderr)
        print(run)  # pytest shows it with the report of a failing test
        assert "Traceback" not in run.output, run
        assert self.secret not in run.output, f"the secret is in the output\n{run}"
        return run
