"""Shared fixtures (an isolated Dagster instance home) and the run's last line: skipped suites."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Generator
from pathlib import Path

import pytest

from pipelines.cli_support import ensure_dagster_home


@pytest.fixture
def dagster_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """DAGSTER_HOME in tmp_path with the dagster.yaml the CLI writes (pipelines/dagster.yaml):
    telemetry and nux off, the duckdb_writer pool limited to 1."""
    home = ensure_dagster_home(tmp_path / "dagster_home")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> Generator[None]:
    """End the run with one line naming every suite that skipped and why; in CI a skip fails.

    A wrapper around the terminal reporter's own, so the line comes after pytest's totals.
    """
    result = yield
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return result
    skipped: Counter[tuple[str, str]] = Counter()
    for report in reporter.stats.get("skipped", []):
        if hasattr(report, "wasxfail"):
            continue
        path, _, rest = report.nodeid.partition("::")
        parts = Path(path).parts
        suite = parts[1] if len(parts) > 2 else Path(path).stem  # tests/<suite>/... or a file
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(rest)
        skipped[suite, reason.removeprefix("Skipped: ")] += 1
    if not skipped:
        reporter.write_line("skipped suites: none", green=True, bold=True)
        return result
    named = "; ".join(
        f"{suite} ({n} test{'s' * (n > 1)}: {reason})" for (suite, reason), n in skipped.items()
    )
    if _in_ci():
        reporter.write_line(f"skipped suites: {named} -- CI must skip none", red=True, bold=True)
        if session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
    else:
        reporter.write_line(f"skipped suites: {named}", yellow=True, bold=True)
    return result


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in {"", "0", "false"}
