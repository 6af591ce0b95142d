"""Waiting for a program to end (``adapters/waiting.py``), with real programs."""

from __future__ import annotations

import subprocess

import pytest

from pg_backup_manager.adapters.waiting import wait_for


def test_the_exit_code_of_a_program_that_ends_is_returned() -> None:
    process = subprocess.Popen(["sh", "-c", "sleep 0.2; exit 3"])

    assert wait_for(process, 30) == 3
    assert process.returncode == 3


def test_a_program_that_outlives_the_timeout_raises_and_runs_on() -> None:
    process = subprocess.Popen(["sleep", "30"])

    with pytest.raises(subprocess.TimeoutExpired):
        wait_for(process, 0.2)

    assert process.poll() is None
    process.kill()
    assert wait_for(process, 30) == -9


def test_a_program_reaped_already_gives_its_exit_code_again() -> None:
    process = subprocess.Popen(["sh", "-c", "exit 5"])
    process.wait()

    assert wait_for(process, 30) == 5
