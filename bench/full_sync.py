"""Full sync of N orders over loopback, against the floor the rate limit and latency allow.

    .venv/bin/python bench/full_sync.py [--orders 50000] [--latency-ms 50] [--points 60]
                                        [--window 10] [--concurrency 4] [--profile]

The real path: StoqClient walk -> warehouse.frames -> OrdersLoad merge into a DuckDB file
(`assets.sync.sync_orders(mode="full")`). Goal: wall / floor <= 1.15 and no 429.
"""

from __future__ import annotations

import argparse
import cProfile
import math
import pstats
import time

import duckdb
from _common import (
    API_KEY,
    LogFigures,
    SandboxProcess,
    environment,
    floor_for,
    fresh_db,
    out_dir,
    ratio,
    table,
    verdict,
)

import warehouse.schema
from assets.sync import SyncSettings, sync_orders
from stoq import StoqClient

GOAL_RATIO = 1.15


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--orders", type=int, default=50_000)
    p.add_argument("--latency-ms", type=int, default=50, help="server latency per request")
    p.add_argument("--points", type=int, default=60, help="rate limit points per window")
    p.add_argument("--window", type=float, default=10.0, help="rate limit window, seconds")
    p.add_argument("--concurrency", type=int, default=4)
    p.add_argument("--per-page", type=int, default=100)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--profile", action="store_true", help="cProfile the client process")
    return p.parse_args(argv)


def run(args: argparse.Namespace) -> dict[str, float]:
    config = {
        "orders": args.orders,
        "seed": args.seed,
        "latency_ms": args.latency_ms,
        "rate_limit_points": args.points,
        "rate_limit_window": args.window,
        "per_page_max": max(100, args.per_page),
    }
    print(f"# full_sync  {environment()}")
    print(
        f"# {args.orders:,} orders, latency {args.latency_ms} ms, limit {args.points} points / "
        f"{args.window:g} s ({args.points / args.window:.2f} req/s), concurrency "
        f"{args.concurrency}, per_page {args.per_page}"
    )
    with SandboxProcess(**config) as server:
        print(f"# sandbox up in {server.startup_s:.1f} s at {server.url}")
        conn = duckdb.connect(str(fresh_db("full_sync.duckdb")))
        warehouse.schema.apply(conn)
        client = StoqClient(
            API_KEY,
            server.base_url,
            points_per_window=args.points,
            window_seconds=args.window,
            concurrency=args.concurrency,
            per_page=args.per_page,
        )
        profiler = cProfile.Profile() if args.profile else None
        with client:
            started = time.perf_counter()
            if profiler:
                profiler.enable()
            sync_orders(
                client,
                conn,
                run_id="bench-full",
                mode="full",
                settings=SyncSettings(per_page=args.per_page),
            )
            if profiler:
                profiler.disable()
            wall = time.perf_counter() - started
            stats = client.stats.snapshot()
        rows = conn.execute("select count(*) from orders").fetchone()[0]
        conn.close()
        log = LogFigures.of(server.log())

    complete = rows == server.orders
    pages = math.ceil(args.orders / args.per_page)
    floor = floor_for(
        pages,
        points=args.points,
        window=args.window,
        latency_s=args.latency_ms / 1000,
        concurrency=args.concurrency,
    )
    over = ratio(wall, floor.seconds)
    span = (log.last_ts or 0) - (log.first_ts or 0)
    print(
        table(
            "full sync (assets.sync.sync_orders, mode=full)",
            [
                ("orders in warehouse", rows, f"= {server.orders:,}", verdict(complete)),
                ("wall time, s", wall, "", ""),
                ("requests (server log)", log.requests, f">= {pages} pages", ""),
                ("requests (client stats)", stats.requests, "", ""),
                ("429 responses", log.rate_limited, "0", verdict(log.rate_limited == 0)),
                ("client budget waits, s", stats.budget_wait_seconds, "", ""),
                ("first->last request, s", span, "", ""),
                ("floor: rate limit, s", floor.rate, "window*(ceil(R/P)-1)+lat", ""),
                ("floor: latency, s", floor.latency, "lat*(1+ceil((R-1)/c))", ""),
                (
                    "floor: both at once, s",
                    floor.combined,
                    f"simulated, {args.concurrency} in flight",
                    "",
                ),
                ("floor used, s", floor.seconds, floor.bound, ""),
                ("(steady-state R/rate, s)", floor.steady, "ignores the burst", ""),
                ("wall / floor", over, f"<= {GOAL_RATIO}", verdict(over <= GOAL_RATIO)),
                ("wall / steady-state", ratio(wall, floor.steady), "", ""),
                ("records/s end to end", rows / wall, "", ""),
            ],
            ("figure", "value", "goal / note", "verdict"),
        )
    )
    if profiler:
        path = out_dir() / "full_sync.prof"
        profiler.dump_stats(str(path))
        print(f"# profile written to {path}; top 25 by cumulative time:")
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    return {
        "wall": wall,
        "ratio": over,
        "requests": log.requests,
        "rate_limited": log.rate_limited,
        "rows": rows,
    }


def main(argv: list[str] | None = None) -> int:
    run(parse_args(argv))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
