"""Unit tests start no program: a test that would (through an adapter that runs a tool,
plumbum or the standard library) fails at once instead of running it."""

from __future__ import annotations

import subprocess
from typing import NoReturn

import pytest


class ProgramStarted(AssertionError):
    """A unit test started a program: it belongs in tests/integration."""


def refuse(*args: object, **kwargs: object) -> NoReturn:
    raise ProgramStarted(f"a unit test started a program: {args[:2]!r}; move it to integration")


@pytest.fixture(autouse=True)
def no_program_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    # Every program plumbum or subprocess.run starts goes through Popen's _execute_child
    # (fork and exec, or posix_spawn); Popen cleans up after it raises.
    monkeypatch.setattr(subprocess.Popen, "_execute_child", refuse)
