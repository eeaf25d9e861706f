"""Incremental sync of a mature shop, against the full sync of the same shop.

    .venv/bin/python bench/incremental_sync.py [--orders 50000] [--changed-pct 3]
                                               [--scenario aged|scattered|both]

A mature shop has most orders fulfilled, cancelled or refunded. Two ways to get one:
  aged       orders older than --mature-days are closed (paid, released and fulfilled, a tenth
             cancelled); recent orders keep their seeded states, so open work sits near the head
             of the newest-first list, as in a real shop.
  scattered  `shop.mutate` closes all but --open-pct of the orders at random, so the few open
             orders are spread over the whole history (the hard case for any incremental plan).
Then: a full sync, a few percent of the shop changed through `shop.mutate` (new orders,
payments, releases, cancels, refunds, fulfilments), one rate-limit window of quiet, and an
incremental sync. Goal: incremental requests <= 1/3 of the full sync's.
The warehouse is then compared with the sandbox's truth: rows whose state is stale are what the
next periodic full reconcile must fix.
"""

from __future__ import annotations

import argparse
import collections
import time
from typing import Any

from _common import (
    LogFigures,
    SandboxProcess,
    add_sandbox_args,
    arg_parser,
    fresh_warehouse,
    measure,
    print_header,
    sandbox_config,
    stoq_client,
    table,
    verdict,
)

from preorders.sync import sync_orders

GOAL_SHARE = 1 / 3


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = arg_parser(__doc__)
    add_sandbox_args(p, orders=50_000, latency_ms=50, points=120, window=10.0)
    p.add_argument("--scenario", choices=("aged", "scattered", "both"), default="both")
    p.add_argument("--mature-days", type=float, default=30.0, help="aged: close older orders")
    p.add_argument("--open-pct", type=float, default=3.0, help="scattered: orders left open")
    p.add_argument("--changed-pct", type=float, default=3.0, help="orders changed between runs")
    return p.parse_args(argv)


def drift_counts(orders: int, changed_pct: float) -> dict[str, int]:
    """Split `changed_pct` of the shop over the mutations (new orders and state moves)."""
    changed = max(6, round(orders * changed_pct / 100))
    shares = {
        "new_orders": 0.30,
        "pay_balances": 0.20,
        "release": 0.15,
        "fulfill": 0.15,
        "cancel": 0.10,
        "refund": 0.10,
    }
    return {name: max(1, round(changed * share)) for name, share in shares.items()}


def one_sync(server: SandboxProcess, conn: Any, args: argparse.Namespace, mode: str) -> dict:
    before = len(server.log())
    with stoq_client(server, args) as client, measure() as took:
        report = sync_orders(client, conn, run_id=f"bench-{mode}", mode=mode)
    log = LogFigures.of(server.log()[before:])
    return {"wall": took.seconds, "log": log, "report": report}


def staleness(server: SandboxProcess, conn: Any) -> tuple[int, collections.Counter]:
    """Rows whose state differs from the sandbox's truth, by (warehouse state -> true state)."""
    truth = server.truth_states()
    ours = dict(conn.execute("select id, state from orders").fetchall())
    moves: collections.Counter = collections.Counter()
    for order_id, state in truth.items():
        have = ours.get(order_id)
        if have != state:
            moves[f"{have or 'absent'} -> {state}"] += 1
    return sum(moves.values()), moves


def scenario(name: str, args: argparse.Namespace) -> dict:
    extra: dict[str, Any] = {"mature_days": args.mature_days}
    if name == "scattered":
        extra = {"open_fraction": args.open_pct / 100}
    with SandboxProcess(**sandbox_config(args), **extra) as server:
        conn = fresh_warehouse(f"incremental_{name}.duckdb")
        full = one_sync(server, conn, args, "full")
        opens = conn.execute(
            "select count(*) from orders where state in "
            "('placed', 'awaiting_balance', 'balance_collected', 'released')"
        ).fetchone()[0]
        drift = server.mutate(**drift_counts(args.orders, args.changed_pct))
        changed = sum(len(v) for v in drift.values())
        time.sleep(args.window)  # let the window empty, as between two scheduled runs
        incr = one_sync(server, conn, args, "incremental")
        stale, moves = staleness(server, conn)
        conn.close()
    return {
        "name": name,
        "open_before": opens,
        "changed": changed,
        "drift": {k: len(v) for k, v in drift.items()},
        "full": full,
        "incr": incr,
        "stale": stale,
        "moves": moves,
    }


def print_scenario(res: dict, args: argparse.Namespace) -> bool:
    full, incr = res["full"], res["incr"]
    share = incr["log"].requests / full["log"].requests
    wall_share = incr["wall"] / full["wall"]
    report = incr["report"]
    ok = share <= GOAL_SHARE
    print(
        table(
            f"scenario {res['name']}: {args.orders:,} orders, {res['open_before']:,} open before "
            f"the change, {res['changed']:,} changed {res['drift']}",
            [
                ("requests", full["log"].requests, incr["log"].requests, f"{share:.3f}", "<= 1/3"),
                ("429 responses", full["log"].rate_limited, incr["log"].rate_limited, "", "0"),
                ("wall time, s", full["wall"], incr["wall"], f"{wall_share:.3f}", ""),
                ("pages walked", full["report"].pages, report.pages, "", ""),
                ("single GETs", full["report"].singles, report.singles, "", ""),
                ("planned requests", "", report.planned_requests or "", "", ""),
                ("records merged", full["report"].records, report.records, "", ""),
            ],
            ("figure", "full", "incremental", "incr/full", "goal"),
        )
    )
    print(f"verdict: incremental/full requests = {share:.3f} -> {verdict(ok)}")
    top = ", ".join(f"{k}: {v}" for k, v in res["moves"].most_common(6))
    print(
        f"stale rows after the incremental run (warehouse state != truth): {res['stale']:,}"
        + (f"  [{top}]" if top else "")
    )
    print()
    return ok


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print_header(
        "incremental_sync",
        f"latency {args.latency_ms} ms, limit {args.points} points / {args.window:g} s, "
        f"concurrency {args.concurrency}, changed {args.changed_pct}% between runs",
    )
    names = ("aged", "scattered") if args.scenario == "both" else (args.scenario,)
    for name in names:
        print_scenario(scenario(name, args), args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
