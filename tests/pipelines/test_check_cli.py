"""`preorders check` in a subprocess: passing lines on stdout, the failing one on stderr, exit
0 / 1 / 2, the key never printed, and no Dagster, pandas or DuckDB loaded."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import pytest

import sandbox
from stoq.contract import CALLS
from tests.pipelines.cli_helpers import ROOT, cli_env, free_port, run_cli

WRONG_KEY = "stoq_api_key_" + "Kx7p" * 8


@pytest.fixture(scope="module")
def live() -> Iterator[sandbox.RunningSandbox]:
    with sandbox.serve(sandbox.SandboxConfig(orders=5)) as server:
        yield server


def assert_no_piece_of(key: str, output: str) -> None:
    assert all(key[i : i + 8] not in output for i in range(len(key) - 7)), output


def test_a_working_setup_prints_seven_lines_and_exits_0(tmp_path, live):
    env = cli_env(tmp_path, STOQ_API_KEY=sandbox.DEFAULT_API_KEY, STOQ_BASE_URL=live.base_url)
    done = run_cli(env, "check")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    lines = done.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "base URL",
        "warehouse",
        "API key",
        "request",
        "rate limit",
        "/help",
        "contract",
    ]
    assert lines[0] == f"base URL: {live.base_url} (STOQ_BASE_URL); plain http to a loopback host"
    assert lines[1] == (
        f"warehouse: {tmp_path / 'preorders.duckdb'} (PREORDERS_DUCKDB_PATH); "
        "not created yet (the first sync creates it)"
    )
    assert lines[4].startswith("rate limit: X-RateLimit-Limit 360, X-RateLimit-Remaining ")
    assert lines[5].startswith("/help: reachable; ")
    assert lines[6] == f"contract: matches the client ({len(CALLS)} actions)"
    assert not (tmp_path / "preorders.duckdb").exists()  # a check creates no warehouse
    assert_no_piece_of(sandbox.DEFAULT_API_KEY, done.stdout)


@pytest.fixture
def drifted() -> Iterator[sandbox.RunningSandbox]:
    """A sandbox whose STOQ moved `release` (renamed, new path, its old name kept as an alias)
    and renamed bulk_release's `order_ids`."""
    edits = (
        {"action": "release", "name": "release_order", "path": "/preorders/orders/:id/free",
         "add_aliases": ["release"]},
        {"action": "bulk_release", "rename_fields": {"order_ids": "ids"}},
    )  # fmt: skip
    with sandbox.serve(sandbox.SandboxConfig(orders=5, manifest_edits=edits)) as server:
        yield server


def test_breaking_drift_exits_1_on_the_contract_line(tmp_path, drifted):
    env = cli_env(tmp_path, STOQ_API_KEY=sandbox.DEFAULT_API_KEY, STOQ_BASE_URL=drifted.base_url)
    done = run_cli(env, "check")
    assert done.returncode == 1
    assert [line.split(":")[0] for line in done.stdout.splitlines()][-1] == "/help"
    assert done.stderr == (
        "preorders check: contract: 3 breaking differences: POST /preorders/orders/:id/release"
        " (release): moved: now POST /preorders/orders/:id/free (as 'release_order')"
        " (and 2 more)\n"
    )
    assert drifted.shop.count_requests("GET", "/help") == 1


def test_an_added_alias_exits_0(tmp_path, live):
    live.shop.edit_manifest([{"action": "release", "add_aliases": ["free the order"]}])
    try:
        env = cli_env(tmp_path, STOQ_API_KEY=sandbox.DEFAULT_API_KEY, STOQ_BASE_URL=live.base_url)
        done = run_cli(env, "check")
    finally:
        live.shop.edit_manifest([])
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == f"contract: matches the client ({len(CALLS)} actions)"


def test_a_wrong_key_exits_1_at_the_request_line_and_never_shows_the_key(tmp_path, live):
    env = cli_env(tmp_path, STOQ_API_KEY=WRONG_KEY, STOQ_BASE_URL=live.base_url)
    done = run_cli(env, "check")
    assert done.returncode == 1, done.stderr
    assert len(done.stdout.splitlines()) == 3  # base URL, warehouse, key; nothing after
    assert done.stderr == (
        "preorders check: request: STOQ rejected the API key "
        "(GET /preorders/offers -> 401: Unauthorized)\n"
    )
    assert_no_piece_of(WRONG_KEY, done.stdout + done.stderr)


def test_no_key_exits_2_after_the_two_offline_lines(tmp_path, live):
    done = run_cli(cli_env(tmp_path, STOQ_BASE_URL=live.base_url), "check")
    assert done.returncode == 2
    assert [line.split(":")[0] for line in done.stdout.splitlines()] == ["base URL", "warehouse"]
    assert done.stderr == (
        "preorders check: API key: STOQ_API_KEY is not set; export your shop's API key\n"
    )


def test_plain_http_to_a_remote_host_exits_2_on_the_first_line(tmp_path):
    env = cli_env(
        tmp_path, STOQ_API_KEY=WRONG_KEY, STOQ_BASE_URL="http://stoq.example/api/v2/external"
    )
    done = run_cli(env, "check")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("preorders check: base URL (STOQ_BASE_URL): ")
    assert "sends the API key in clear" in done.stderr


def test_a_wrong_base_path_exits_1_at_the_request_line(tmp_path, live):
    url = live.base_url.replace("/api/v2/external", "/api/v1")
    env = cli_env(tmp_path, STOQ_API_KEY=sandbox.DEFAULT_API_KEY, STOQ_BASE_URL=url)
    done = run_cli(env, "check")
    assert done.returncode == 1
    assert len(done.stdout.splitlines()) == 3
    assert done.stderr.startswith("preorders check: request: GET /preorders/offers -> 404")
    assert "check STOQ_BASE_URL" in done.stderr


def test_nothing_listening_exits_1_cannot_reach(tmp_path):
    url = f"http://127.0.0.1:{free_port()}/api/v2/external"
    env = cli_env(
        tmp_path, STOQ_API_KEY=sandbox.DEFAULT_API_KEY, STOQ_BASE_URL=url, STOQ_MAX_RETRIES="0"
    )
    done = run_cli(env, "check")
    assert done.returncode == 1
    assert done.stderr.startswith(f"preorders check: request: cannot reach {url}: ")


# Runs `preorders check` through main() in this interpreter, then prints the exit code and the
# top-level names of every module loaded.
DRIVER = """
import json, sys
from pipelines.cli import main
code = main(["check"])
print(json.dumps({"code": code, "modules": sorted({m.split(".")[0] for m in sys.modules})}))
"""


def test_check_loads_no_dagster_pandas_or_duckdb(tmp_path, live):
    env = cli_env(tmp_path, STOQ_API_KEY=sandbox.DEFAULT_API_KEY, STOQ_BASE_URL=live.base_url)
    done = subprocess.run(
        [sys.executable, "-c", DRIVER], cwd=ROOT, env=env, capture_output=True, text=True
    )
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["code"] == 0, done.stderr
    modules = set(result["modules"])
    assert {"dagster", "dagster_duckdb", "pandas", "matplotlib", "duckdb"} & modules == set()
    assert "httpx" in modules  # it did talk to the sandbox
