"""`preorders sync` exit codes tell the truth, and its lines name the real cause (issue 9, 7)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

import sandbox
from tests.hostile import Answer, Exchange, HostileServer, rewrite_json
from tests.pipelines.cli_helpers import cli_env, error_lines, run_cli


@pytest.fixture(scope="module")
def shop() -> sandbox.Shop:
    return sandbox.Shop(sandbox.SandboxConfig(orders=300, rate_limit_points=1_000_000))


def sync(tmp_path: Path, server: HostileServer, *args: str, **env: str):
    environment = cli_env(
        tmp_path,
        STOQ_API_KEY=sandbox.DEFAULT_API_KEY,
        STOQ_BASE_URL=server.base_url,
        STOQ_MAX_RETRIES="0",
        PREORDERS_DUCKDB_PATH=str(tmp_path / "w.duckdb"),
    )
    return run_cli(environment | env, "sync", *args)


def one_line(done) -> str:
    lines = error_lines(done.stderr)  # progress lines aside
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    return lines[0]


def pages_after_the_first_are_empty(ex: Exchange, payload: Any) -> Any:
    """Page 1 is whole; every later page comes back empty (meta still counts every order)."""
    if ex.query.get("page", "1") != "1":
        payload["orders"] = []
    return payload


def test_a_sync_that_saw_part_of_the_orders_exits_1_and_says_so(shop, tmp_path: Path) -> None:
    fault = rewrite_json("/preorders/orders", pages_after_the_first_are_empty)
    with HostileServer(shop, fault) as server:
        done = sync(tmp_path, server, "--full")
    assert done.returncode == 1, done.stdout + done.stderr
    line = one_line(done)
    assert line.startswith("preorders sync: sync incomplete: "), line
    assert "the high-water mark was not moved" in line
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        state = conn.execute("select high_water_mark from sync_state where stream = 'orders'")
        assert state.fetchone() in (None, (None,))


def bad_timestamps(ex: Exchange, payload: Any) -> Any:
    """Every offer carries a created_at no warehouse can hold."""
    for offer in payload.get("offers", []):
        offer["created_at"] = "the day after tomorrow"
    return payload


def test_a_sync_whose_every_record_was_rejected_exits_1(shop, tmp_path: Path) -> None:
    with HostileServer(shop, rewrite_json("/preorders/offers", bad_timestamps)) as server:
        done = sync(tmp_path, server)
    assert done.returncode == 1, done.stdout + done.stderr
    line = one_line(done)
    assert "offers read was rejected (see _rejects)" in line, line


def not_json(ex: Exchange) -> Answer | None:
    if ex.path == "/preorders/orders":
        return Answer(200, b"<html>maintenance</html>", {"Content-Type": "text/html"})
    return None


def test_a_malformed_200_is_not_reported_as_unreachable(shop, tmp_path: Path) -> None:
    with HostileServer(shop, not_json) as server:
        done = sync(tmp_path, server)
    assert done.returncode == 1
    line = one_line(done)
    assert "malformed response from STOQ" in line and "cannot reach" not in line, line


@pytest.mark.parametrize("command", [("sync",), ("offers", "list"), ("release",)])
def test_plain_http_to_a_remote_host_is_a_usage_error_before_any_request(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    env = cli_env(
        tmp_path,
        STOQ_API_KEY=sandbox.DEFAULT_API_KEY,
        STOQ_BASE_URL="http://stoq.example.invalid/api/v2/external",
        PREORDERS_DUCKDB_PATH=str(tmp_path / "w.duckdb"),
    )
    done = run_cli(env, *command, timeout=60)
    assert done.returncode == 2, done.stdout + done.stderr
    line = one_line(done)
    assert line.startswith(f"preorders {command[0]}"), line
    assert "http" in line and sandbox.DEFAULT_API_KEY not in line


def drip_orders(ex: Exchange) -> Answer | None:
    if ex.path == "/preorders/orders":
        up = ex.upstream
        return Answer(up.status, up.body, dict(up.headers), drip=0.05)
    return None


def test_a_deadline_says_so_not_cannot_reach(shop, tmp_path: Path) -> None:
    with HostileServer(shop, drip_orders) as server:
        done = sync(tmp_path, server, STOQ_REQUEST_DEADLINE_S="1")
    assert done.returncode == 1
    line = one_line(done)
    assert line.startswith(f"preorders sync: STOQ API at {server.base_url}: "), line
    assert "deadline" in line and "cannot reach" not in line, line
