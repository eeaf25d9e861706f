"""Each benchmark script runs end to end at a tiny size and prints its figures.

Behaviour only: no wall time is asserted (benchmarks are scripts with printed figures, see
bench/README.md). Each script runs as a user would run it, in a child process, against a
sandbox it starts on 127.0.0.1.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
DLT_READY = (BENCH / ".venvs" / "dlt" / ".installed").exists()
IN_CI = os.environ.get("CI", "").lower() not in {"", "0", "false"}


@pytest.fixture
def run(tmp_path: Path):
    """Run a bench script in a child process, its scratch files in tmp_path; return stdout."""

    def run_script(script: str, *args: str, timeout: float = 240) -> str:
        env = {**os.environ, "BENCH_OUT": str(tmp_path)}
        done = subprocess.run(
            [sys.executable, str(BENCH / script), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=BENCH.parent,
            env=env,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    return run_script


def test_full_sync_prints_wall_floor_and_ratio(run) -> None:
    out = run("full_sync.py", "--orders", "400", "--points", "3", "--window", "0.5",
              "--latency-ms", "5")  # fmt: skip
    assert "orders in warehouse       400" in out
    assert "requests (server log)     4 " in out
    assert "429 responses             0" in out
    assert "floor used, s" in out
    assert "wall / floor" in out


def test_incremental_sync_spends_fewer_requests_on_an_aged_shop(run) -> None:
    out = run("incremental_sync.py", "--orders", "2000", "--scenario", "aged",
              "--points", "100", "--window", "0.5", "--latency-ms", "0")  # fmt: skip
    assert "scenario aged: 2,000 orders" in out
    assert "requests          20" in out  # the full walk: 2,000 orders / 100 per page
    assert "-> met" in out  # the aged shop keeps open work near the head
    assert "stale rows after the incremental run" in out


def test_warehouse_load_prints_rate_memory_and_tick(run) -> None:
    out = run("warehouse_load.py", "--orders", "1500", "--page", "500", "--ticks", "2")
    assert "load of 1,500 orders" in out
    assert "orders in table                1,500" in out
    for figure in ("rows/s", "peak RSS after load, MB", "tick, s (median of 2)"):
        assert figure in out
    assert "DuckDB alone: 1,500 orders" in out  # the engine floor loaded the same records


def test_release_compares_single_posts_with_one_bulk_job(run) -> None:
    out = run("release.py", "--release", "25", "--orders", "600", "--points", "400",
              "--window", "0.5", "--latency-ms", "0")  # fmt: skip
    assert "single    writes (POST)           25" in out
    assert "bulk      writes (POST)           1 " in out
    assert out.count("released per truth        25") == 2
    assert "bulk / single:" in out


@pytest.mark.parametrize("with_dlt", [False, True], ids=["ours-httpx", "ours-httpx-dlt"])
def test_vs_dlt_loads_the_same_rows_three_ways(run, with_dlt: bool) -> None:
    if with_dlt and not DLT_READY:
        missing = "bench/.venvs/dlt not installed: `make bench-venv` (make test does it)"
        if IN_CI:
            pytest.fail(f"{missing}; CI runs every suite", pytrace=False)
        pytest.skip(missing)
    only = ["--only", "ours", "--only", "httpx"] + (["--only", "dlt"] if with_dlt else [])
    out = run("vs_dlt.py", "--orders", "300", "--latency-ms", "0", "--skip-install", *only)
    assert "same data, same sandbox (300 orders, 3 pages)" in out
    table: dict[str, list[str]] = {}
    for cells in map(str.split, out.splitlines()):
        if cells:
            table.setdefault(cells[0], cells)  # the first line per loader is its table row
    for loader in ["ours", "httpx", *(["dlt"] if with_dlt else [])]:
        assert table[loader][4] == "300", table[loader]  # loader  wall s  requests  429s  rows
    assert ("dlt wall / our wall" in out) is with_dlt


def test_cli_overhead_prints_a_row_per_command(run) -> None:
    out = run("cli_overhead.py", "--runs", "1", "--only", "offers list, no key", "python")
    assert "python -c pass (floor)" in out
    assert "offers list, no key (exit 2)  2" in out and "--help " not in out


def test_sync_overhead_prints_wall_and_overhead_per_home(run) -> None:
    out = run("sync_overhead.py", "--runs", "1", "--orders", "10")
    for home in ("warm", "fresh"):
        for figure in ("wall", "api + load", "overhead"):
            assert f"{home:<12}  {figure}" in out, out


def test_many_shops_commits_every_shop_both_ways_and_prints_the_ratios(run) -> None:
    out = run("many_shops.py", "--shops", "2", "--orders", "300", "--points", "3",
              "--window", "0.5", "--latency-ms", "5")  # fmt: skip
    assert "# one shop alone (shop1, a process of its own):" in out
    rows = [line.rstrip() for line in out.splitlines()]

    def figure(name: str) -> list[list[str]]:
        return [line[len(name) :].split() for line in rows if line.startswith(name)]

    assert [cells[:3] for cells in figure("shops committed")] == [["2", "=", "2"]] * 2
    assert all(cells[-1] == "met" for cells in figure("shops committed"))
    assert [cells[0] for cells in figure("429 responses, all keys")] == ["0", "0"]
    assert [cells[:3] for cells in figure("  shop2: requests / 429")] == [["5", "/", "0"]] * 2
    for name in (
        "wall / floor",
        "wall / one shop alone",
        "peak RSS per process, MB",
        "peak RSS, MB",
    ):
        assert figure(name), name


def test_whole_process_times_preorders_sync_next_to_dlt_and_the_floor(run) -> None:
    # The dlt arm runs where bench-venv is built.
    only = [] if DLT_READY else ["--only", "ours", "--only", "ours-fixed"]
    out = run("whole_process.py", "--scenario", "typical", "--orders", "200",
              "--latency-ms", "0", "--skip-install", *only)  # fmt: skip
    assert "typical: 200 orders, 0 ms, 360/60 s, 2 pages of 100; whole processes" in out
    table = {cells[0]: cells for cells in map(str.split, out.splitlines()) if cells}
    for contender in ["ours", "ours-fixed", "floor", *(["dlt"] if DLT_READY else [])]:
        assert table[contender][4] == "200", table[contender]  # contender wall requests 429s orders
    assert table["ours"][3] == "0"  # no 429
    assert "typical: ours / floor = " in out
    assert ("typical: ours / dlt = " in out) is DLT_READY
    assert "typical: 429 responses ours 0" in out
    assert re.search(r"# python -c 'import httpx, duckdb, pandas': \d+\.\d{3} s", out)


def test_whole_process_deployment_syncs_every_shop_both_ways_and_shows_cpu(run) -> None:
    out = run("whole_process.py", "--scenario", "deployment", "--shops", "3", "--orders", "100",
              "--latency-ms", "0", "--skip-install", "--only", "ours")  # fmt: skip
    assert "deployment: 3 shops x 100 orders, 0 ms, 360/60 s per key; whole processes" in out
    for way in ("one process", "a process per shop"):
        (row,) = [line for line in out.splitlines() if line.startswith(way + "  ")]
        cells = row[len(way) :].split()  # wall, CPU, CPU/wall, server CPU, orders, requests, 429s
        assert cells[4] == "300" and cells[6] == "0", row  # every shop's orders, no 429
        assert re.search(rf"deployment {way}: CPU / wall = [\d.]+ \(goal <= 0.25\) -> ", out)
