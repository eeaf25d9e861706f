"""Full sync of N orders over loopback, against the floor the rate limit and latency allow.

    .venv/bin/python bench/full_sync.py [--orders 50000] [--latency-ms 50] [--points 60]
                                        [--window 10] [--concurrency 4] [--profile]

The real path: StoqClient walk -> warehouse.frames -> OrdersLoad merge into a DuckDB file
(`preorders.sync.sync_orders(mode="full")`). Goal: wall / floor <= 1.15 and no 429.
"""

from __future__ import annotations

import argparse

from _common import (
    LogFigures,
    SandboxProcess,
    add_sandbox_args,
    arg_parser,
    fresh_warehouse,
    measure,
    print_header,
    print_profile,
    ratio,
    sandbox_config,
    stoq_client,
    table,
    verdict,
    walk_floor,
)

from preorders.sync import SyncSettings, sync_orders

GOAL_RATIO = 1.15


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = arg_parser(__doc__)
    add_sandbox_args(p, orders=50_000, latency_ms=50, points=60, window=10.0, per_page=True)
    p.add_argument("--profile", action="store_true", help="cProfile the client process")
    return p.parse_args(argv)


def run(args: argparse.Namespace) -> dict[str, float]:
    print_header(
        "full_sync",
        f"{args.orders:,} orders, latency {args.latency_ms} ms, limit {args.points} points / "
        f"{args.window:g} s ({args.points / args.window:.2f} req/s), concurrency "
        f"{args.concurrency}, per_page {args.per_page}",
    )
    with SandboxProcess(**sandbox_config(args)) as server:
        print(f"# sandbox up in {server.startup_s:.1f} s at {server.url}")
        conn = fresh_warehouse("full_sync.duckdb")
        with stoq_client(server, args) as client:
            settings = SyncSettings(per_page=args.per_page)
            with measure(args.profile) as took:
                sync_orders(client, conn, run_id="bench-full", mode="full", settings=settings)
            stats = client.stats.snapshot()
        rows = conn.execute("select count(*) from orders").fetchone()[0]
        conn.close()
        log = LogFigures.of(server.log())

    wall = took.seconds
    complete = rows == server.orders
    pages, floor = walk_floor(args)
    over = ratio(wall, floor.seconds)
    span = (log.last_ts or 0) - (log.first_ts or 0)
    print(
        table(
            "full sync (preorders.sync.sync_orders, mode=full)",
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
    heading = "# profile written to {path}; top 25 by cumulative time:"
    print_profile(took, "full_sync", "cumulative", 25, heading)
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
