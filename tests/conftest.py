"""Suite-wide rules: in CI (``CI=true``) a skipped test fails the run.

A skip in CI is a check that nobody ran while the build looks green, so the run
ends with exit status 1 and names every skipped test with its reason. Expected
failures (``xfail``) are not skips and are left alone.
"""

from __future__ import annotations

import os

import pytest


class _SkipGuard:
    """Collects skipped tests and collectors; fails the session if there are any."""

    def __init__(self) -> None:
        self.skipped: list[str] = []

    def _record(self, report: pytest.TestReport | pytest.CollectReport) -> None:
        if report.skipped and not hasattr(report, "wasxfail"):
            longrepr = report.longrepr
            reason = longrepr[-1] if isinstance(longrepr, tuple) else longrepr
            self.skipped.append(f"{report.nodeid or '<collection>'}: {reason}")

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self._record(report)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        self._record(report)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if not self.skipped:
            return
        title = f"CI=true and {len(self.skipped)} skipped: in CI a skipped test is a failure"
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is None:
            print("\n".join([title, *self.skipped]))
        else:
            reporter.write_line("")
            reporter.write_sep("=", title, red=True, bold=True)
            for entry in self.skipped:
                reporter.write_line(f"SKIPPED {entry}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}:
        config.pluginmanager.register(_SkipGuard(), "ci-skip-guard")
