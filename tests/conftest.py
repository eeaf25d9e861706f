"""Shared fixtures: an isolated Dagster instance home and the warehouse/truth comparison helper."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def dagster_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """DAGSTER_HOME in tmp_path with telemetry and nux off."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\nnux:\n  enabled: false\n")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home
