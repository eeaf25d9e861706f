"""Fixed overhead of `preorders sync`: wall time minus the time spent in API requests and the load.

    .venv/bin/python bench/sync_overhead.py [--runs 5] [--orders 10] [--latency-ms 0]

Runs `preorders sync --full` as a whole process (`python -m pipelines.cli`), N times with a warm
DAGSTER_HOME (one unmeasured warm-up run first) and N times with a fresh, empty one, against the
sandbox served over loopback in this process (small shop, no latency, no rate limit in the way).
The warehouse file is kept across runs, so every run does the same full walk and merge.

`api + load` is what the sync itself says it spent: the sum over its streams of `finished_at -
started_at` in `sync_runs` (the walk, the frames and the merge). `overhead` = wall - that: the
interpreter, imports, configuration, the Dagster instance and the events written to it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
from _common import ROOT, arg_parser, print_header, table

import sandbox


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = arg_parser(__doc__)
    p.add_argument("--runs", type=int, default=5, help="measured runs per DAGSTER_HOME kind")
    p.add_argument("--orders", type=int, default=10, help="orders in the sandbox shop")
    p.add_argument("--latency-ms", type=int, default=0, help="sandbox latency per request")
    return p.parse_args(argv)


def sync_once(env: dict[str, str], db: Path) -> tuple[float, float]:
    """(wall seconds of one `preorders sync --full` process, seconds its streams took)."""
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "sync", "--full"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    wall = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"preorders sync failed ({done.returncode}): {done.stderr.strip()}")
    with duckdb.connect(str(db), read_only=True) as conn:
        row = conn.execute(
            """
            select sum(epoch(finished_at) - epoch(started_at)) from sync_runs
            where run_id = (select run_id from sync_runs order by started_at desc limit 1)
            """
        ).fetchone()
    return wall, float(row[0] if row and row[0] is not None else 0.0)


def stats(values: list[float]) -> tuple[float, float, float]:
    return min(values), statistics.median(values), max(values)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print_header(
        "sync_overhead",
        f"{args.orders} orders, latency {args.latency_ms} ms, {args.runs} runs per home, "
        "`preorders sync --full` as a whole process",
    )
    config = sandbox.SandboxConfig(
        orders=args.orders, latency_ms=args.latency_ms, rate_limit_points=1_000_000
    )
    rows = []
    with (
        tempfile.TemporaryDirectory(prefix="sync_overhead_") as scratch,
        sandbox.serve(config) as served,
    ):
        tmp = Path(scratch)
        db = tmp / "warehouse.duckdb"
        base = {k: v for k, v in os.environ.items() if not k.startswith(("STOQ_", "PREORDERS_"))}
        env = base | {
            "STOQ_API_KEY": sandbox.DEFAULT_API_KEY,
            "STOQ_BASE_URL": served.base_url,
            "PREORDERS_DUCKDB_PATH": str(db),
        }
        warm_home = tmp / "warm_home"
        sync_once(env | {"DAGSTER_HOME": str(warm_home)}, db)  # warm-up: home, schema, caches
        for kind in ("warm", "fresh"):
            walls, works = [], []
            for i in range(args.runs):
                home = warm_home if kind == "warm" else tmp / f"fresh_home_{i}"
                wall, work = sync_once(env | {"DAGSTER_HOME": str(home)}, db)
                walls.append(wall)
                works.append(work)
            overheads = [w - a for w, a in zip(walls, works, strict=True)]
            for name, values in (("wall", walls), ("api + load", works), ("overhead", overheads)):
                rows.append((kind, name, *stats(values)))
    print(table("seconds per run", rows, ("DAGSTER_HOME", "figure", "min", "median", "max")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
