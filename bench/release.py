"""Release 1,000 eligible orders: single POSTs against one bulk job, through the release core.

    .venv/bin/python bench/release.py [--release 1000] [--orders 10000] [--latency-ms 20]
                                      [--points 600] [--window 10] [--profile]

Both runs go through `preorders.actions.release` (ledger claim, a GET of each order
just before acting, the write, settle): with `bulk_threshold` above the batch it sends one
`POST .../release` per order; with the default threshold it sends one `bulk_release` job, polls
it, then reads every order back (the job swallows per-item failures). Before each run the shop
is reset (same seeded data, fresh window, empty log) and synced into a fresh warehouse; only
the release itself is measured. Requests and points come from the sandbox's request log.
The minimum column is what the API itself needs: one POST per order, or one bulk POST plus
status polls.
"""

from __future__ import annotations

import argparse
import collections
import math
import re
import sys
import time

from _common import (
    LogFigures,
    SandboxProcess,
    add_sandbox_args,
    arg_parser,
    fresh_warehouse,
    measure,
    print_header,
    print_profile,
    sandbox_config,
    stoq_client,
    table,
)

from preorders.actions import ActionSettings, release
from preorders.sync import sync_orders

STOQ_POINTS, STOQ_WINDOW = 360, 60.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = arg_parser(__doc__)
    p.add_argument("--release", type=int, default=1000, help="orders to release")
    add_sandbox_args(p, orders=10_000, latency_ms=20, points=600, window=10.0)
    p.add_argument("--only", choices=("single", "bulk"), action="append")
    p.add_argument("--profile", action="store_true", help="cProfile each release, print the top")
    return p.parse_args(argv)


def stoq_minutes(points: int) -> float:
    """Least minutes those points need at STOQ's real limit (a fresh window's burst counted)."""
    return STOQ_WINDOW * max(0, math.ceil(points / STOQ_POINTS) - 1) / 60


def kind(method: str, path: str) -> str:
    """A short name for a logged request: order GET, job poll, POST <action>."""
    if "/jobs/" in path:
        return "job poll"
    if method == "GET" and re.search(r"/preorders/orders/\d+$", path):
        return "order GET"
    return f"{method} {path.rsplit('/', 1)[-1]}"


def run(server: SandboxProcess, args: argparse.Namespace, mode: str) -> dict:
    server.reset()
    conn = fresh_warehouse(f"release_{mode}.duckdb")
    threshold = args.release + 1 if mode == "single" else ActionSettings.bulk_threshold
    settings = ActionSettings(bulk_threshold=threshold, job_initial_interval=0.5)
    with stoq_client(server, args) as client:
        sync_orders(client, conn, run_id=f"bench-sync-{mode}", mode="full")
        eligible = conn.execute("select count(*) from releasable_orders").fetchone()[0]
        time.sleep(args.window)  # a fresh window for the release, as the sync ran before
        before = len(server.log())
        with measure(args.profile) as took:
            outcomes = release(
                client, conn, limit=args.release, run_id=f"bench-{mode}", settings=settings
            )
    entries = server.log()[before:]
    conn.close()
    released = {o.order_id for o in outcomes if o.status == "succeeded"}
    truth = server.truth_states()
    confirmed = sum(1 for i in released if truth.get(i) in ("released", "fulfilled"))
    kinds = collections.Counter(kind(e["method"], e["path"]) for e in entries)
    heading = f"# profile of the {mode} release, top 20 by cumulative time"
    print_profile(took, f"release_{mode}", "cumulative", 20, heading)
    return {
        "wall": took.seconds,
        "log": LogFigures.of(entries),
        "eligible": eligible,
        "outcomes": collections.Counter(o.status for o in outcomes),
        "released": len(released),
        "confirmed": confirmed,
        "kinds": kinds,
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print_header(
        "release",
        f"release {args.release:,} of {args.orders:,} orders, latency {args.latency_ms} ms, "
        f"limit {args.points} points / {args.window:g} s; through preorders.actions.release",
    )
    modes = [m for m in ("single", "bulk") if not args.only or m in args.only]
    results = {}
    with SandboxProcess(**sandbox_config(args)) as server:
        for mode in modes:
            results[mode] = run(server, args, mode)
            print(f"# {mode}: {results[mode]['wall']:.1f} s", flush=True)
    n = args.release
    minimum = {"single": (n, 0, 2 * n), "bulk": (1, None, 2)}  # writes, reads, points
    rows = []
    for mode, r in results.items():
        log = r["log"]
        writes_min, _, points_min = minimum[mode]
        rows += [
            (mode, "wall time, s", r["wall"], ""),
            (mode, "requests", log.requests, ""),
            (mode, "  writes (POST)", log.writes, f"{writes_min:,}"),
            (mode, "  reads (GET)", log.reads, "0 + job polls" if mode == "bulk" else "0"),
            (mode, "  by kind", dict(r["kinds"]), ""),
            (mode, "points", log.points, f"{points_min:,}+"),
            (mode, "429 responses", log.rate_limited, "0"),
            (mode, "minutes at STOQ's 360/60", stoq_minutes(log.points), ""),
            (mode, "outcomes", dict(r["outcomes"]), f"{n:,} succeeded"),
            (mode, "released per truth", r["confirmed"], f"{n:,}"),
        ]
    print(table("release core: single POSTs vs one bulk job", rows,
                ("mode", "figure", "value", "API minimum")))  # fmt: skip
    if len(results) == 2:
        s, b = results["single"], results["bulk"]
        print(
            f"bulk / single: wall {b['wall'] / s['wall']:.2f}, requests "
            f"{b['log'].requests / s['log'].requests:.2f}, points "
            f"{b['log'].points / s['log'].points:.2f}, writes {b['log'].writes} vs "
            f"{s['log'].writes}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
