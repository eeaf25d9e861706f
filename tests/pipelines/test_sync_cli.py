"""`preorders sync` as an operator runs it: a summary on success, one clear line on failure."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

import sandbox
from pipelines.cli_support import MINIMAL_DAGSTER_YAML
from tests.assets.truth import assert_matches_truth
from tests.pipelines.cli_helpers import cli_env, error_lines, free_port, run_cli

BAD_KEY = "stoq_api_key_" + "wrong" * 6 + "xy"


@pytest.fixture(scope="module")
def served():
    config = sandbox.SandboxConfig(orders=300, rate_limit_points=100_000)
    with sandbox.serve(config) as running:
        yield running


def test_sync_prints_a_line_per_stream_and_a_summary(served, tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    env = cli_env(
        tmp_path,
        STOQ_API_KEY=sandbox.DEFAULT_API_KEY,
        STOQ_BASE_URL=served.base_url,
        PREORDERS_DUCKDB_PATH=str(db),
    )
    done = run_cli(env, "sync", "--full")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert any(line.strip().startswith("offers") for line in lines)
    assert any(line.strip().startswith("orders") and "full" in line for line in lines)
    assert "checks 6/6 passed" in lines[-1]
    assert sandbox.DEFAULT_API_KEY not in done.stdout + done.stderr
    again = run_cli(env, "sync", "--incremental")
    assert again.returncode == 0, again.stderr
    assert "incremental" in again.stdout
    with duckdb.connect(str(db)) as conn:
        assert_matches_truth(conn, served.shop)


def test_sync_without_a_key_fails_before_starting(tmp_path: Path) -> None:
    done = run_cli(cli_env(tmp_path), "sync")
    assert done.returncode == 2
    assert "STOQ_API_KEY is not set" in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_sync_with_a_bad_key_says_401(served, tmp_path: Path) -> None:
    env = cli_env(
        tmp_path,
        STOQ_API_KEY=BAD_KEY,
        STOQ_BASE_URL=served.base_url,
        PREORDERS_DUCKDB_PATH=str(tmp_path / "w.duckdb"),
    )
    done = run_cli(env, "sync")
    assert done.returncode == 1
    assert "401" in done.stderr and "STOQ_API_KEY" in done.stderr
    assert len(error_lines(done.stderr)) == 1, done.stderr
    assert BAD_KEY not in done.stdout + done.stderr


def test_sync_against_an_unreachable_host_says_so(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/api/v2/external"
    env = cli_env(
        tmp_path,
        STOQ_API_KEY=sandbox.DEFAULT_API_KEY,
        STOQ_BASE_URL=url,
        STOQ_MAX_RETRIES="1",
        PREORDERS_DUCKDB_PATH=str(tmp_path / "w.duckdb"),
    )
    done = run_cli(env, "sync")
    assert done.returncode == 1
    assert f"cannot reach the STOQ API at {url}" in done.stderr
    assert len(error_lines(done.stderr)) == 1, done.stderr


@pytest.mark.parametrize("home", ["empty", "unset"])
def test_sync_prints_no_dagster_banner_for_a_home_without_dagster_yaml(served, tmp_path, home):
    env = cli_env(
        tmp_path,
        STOQ_API_KEY=sandbox.DEFAULT_API_KEY,
        STOQ_BASE_URL=served.base_url,
        PREORDERS_DUCKDB_PATH=str(tmp_path / "w.duckdb"),
    )
    folder = tmp_path / "fresh_home"
    if home == "empty":
        env["DAGSTER_HOME"] = str(folder)  # not even created yet
    else:
        del env["DAGSTER_HOME"]
    done = run_cli(env, "sync")
    assert done.returncode == 0, done.stderr
    assert error_lines(done.stderr) == []
    assert "Telemetry" not in done.stdout and "dagster.yaml" not in done.stdout
    if home == "empty":
        written = (folder / "dagster.yaml").read_text()
        assert written == MINIMAL_DAGSTER_YAML
