"""Many shops synced at once into ONE warehouse file, against the floor of a single shop.

    .venv/bin/python bench/many_shops.py [--shops 5] [--orders 10000] [--latency-ms 50]
                                         [--points 360] [--window 60] [--ways processes,threads]

N shops (`preorders sandbox --shops N`: one port, each shop its own key, data and rate window)
served over loopback, each synced in full (offers beside orders) as a deployment would:
  processes  one process per shop, all started together (`sync_shops([shop], opener)` in each),
  threads    one process syncing every shop (`preorders.many_shops.sync_shops(shops, opener)`).
Each shop's walk is bound by its own key's budget and the latency, so N shops should take about
the time of one: the goal is wall / the single-shop floor <= 1.2 and no 429 on any key. Wall runs
from the moment every process is ready (imports done) to the last commit. The floor is one
shop's requests at the limit and latency: its offers (2 requests, one after the other) beside its
orders walk (page 1, then up to 16 in flight), under the key's window. "one shop alone" is the
same sync of shop1 by itself, measured first: N shops / one alone near 1 is the overlap,
whatever this box's CPU adds to every sync.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import time
from typing import Any

from _common import (
    BENCH,
    ROOT,
    LogFigures,
    SandboxProcess,
    arg_parser,
    fresh_db,
    print_header,
    ratio,
    table,
    verdict,
)

from preorders.settings import DEFAULT_MAX_CONCURRENCY
from sandbox import shop_key

GOAL_RATIO = 1.2
OFFERS_REQUESTS = 2  # offers, then discarded offers: one page each, beside the orders walk
WAYS = ("processes", "threads")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = arg_parser(__doc__)
    p.add_argument("--shops", type=int, default=5, help="shops, each with its own key")
    p.add_argument("--orders", type=int, default=10_000, help="orders in each shop")
    p.add_argument("--latency-ms", type=int, default=50, help="server latency per request")
    p.add_argument("--points", type=int, default=360, help="rate limit points per window, per key")
    p.add_argument("--window", type=float, default=60.0, help="rate limit window, seconds")
    p.add_argument("--seed", type=int, default=7, help="the sandbox's seed (shop k: seed + k - 1)")
    p.add_argument("--ways", default=",".join(WAYS), help="processes, threads or both (a,b)")
    p.add_argument("--child", help=argparse.SUPPRESS)  # internal: one syncing process
    args = p.parse_args(argv)
    # The shop clients' (StoqSettings) defaults: 4 in flight, growing to 16 on a slow API.
    args.concurrency, args.max_concurrency, args.per_page = 4, DEFAULT_MAX_CONCURRENCY, 100
    args.ways = [w.strip() for w in args.ways.split(",") if w.strip()]
    if not args.ways or set(args.ways) - set(WAYS):
        p.error(f"--ways takes {', '.join(WAYS)} (comma-separated)")
    return args


# -- a syncing process --------------------------------------------------------------------------


def child(spec: dict[str, Any]) -> int:
    """Sync spec's shops into spec's file once the parent says go; print one JSON line."""
    from preorders.many_shops import sync_shops
    from preorders.settings import WarehouseSettings
    from preorders.shops import Shop

    shops = [Shop(name, env, spec["base_url"], points_per_window=spec["points"])
             for name, env in spec["shops"]]  # fmt: skip
    opener = WarehouseSettings.from_env(spec["database"]).connect
    print("ready", flush=True)
    sys.stdin.readline()
    started, cpu_before = time.time(), _own_cpu()
    results = sync_shops(shops, opener, mode="full", run_id=spec["run_id"],
                         client_options={"window_seconds": spec["window"]})  # fmt: skip
    ended = time.time()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    cpu = _own_cpu() - cpu_before
    shops_out = {
        r.shop: {
            "errors": {k: repr(v) for k, v in r.errors.items()},
            "records": sum(x.records for x in r.reports),
            "requests": sum(x.requests for x in r.reports),
            "rate_limited": sum(x.rate_limited for x in r.reports),
            "orders_s": r.orders.duration_s if r.orders else None,
        }
        for r in results
    }
    figures = {"started": started, "ended": ended, "peak_mb": peak_mb, "cpu_s": cpu}
    print(json.dumps({**figures, "shops": shops_out}))
    return 0


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# -- the parent ---------------------------------------------------------------------------------


def shop_floor(args: argparse.Namespace) -> tuple[int, float]:
    """(requests, least seconds) of one shop's full sync: its offers walks (one request, then
    the discarded offers') beside its orders walk (page 1, then up to `max_concurrency` in
    flight), every request under the key's sliding window."""
    latency, pages = args.latency_ms / 1000, math.ceil(args.orders / args.per_page)
    wide = args.max_concurrency
    orders: list[float] = []
    for i in range(pages):
        t = 0.0 if i == 0 else orders[0] + latency  # after page 1's meta
        if i - 1 >= wide:  # a slot frees
            t = max(t, orders[i - wide] + latency)
        orders.append(t)
    sends = sorted(orders + [k * latency for k in range(OFFERS_REQUESTS)])
    for i in range(args.points, len(sends)):  # the window forgets request i - points
        sends[i] = max(sends[i], sends[i - args.points] + args.window)
    return len(sends), max(sends) + latency


def start_children(groups: list[list[str]], base_url: str, args: argparse.Namespace, database: str,
                   run_id: str) -> list[subprocess.Popen[str]]:  # fmt: skip
    """One process per group of shops, each ready (imported, waiting for go)."""
    env = {**os.environ, **{key_var(name): key_of(name) for group in groups for name in group}}
    procs = []
    for group in groups:
        spec = {
            "shops": [(name, key_var(name)) for name in group],
            "base_url": base_url,
            "points": args.points,
            "window": args.window,
            "database": database,
            "run_id": run_id,
        }
        procs.append(subprocess.Popen(
            [sys.executable, str(BENCH / "many_shops.py"), "--child", json.dumps(spec)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT, env=env,
        ))  # fmt: skip
    for proc in procs:
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != "ready":
            raise RuntimeError("a syncing process exited before it was ready")
    return procs


def key_var(name: str) -> str:
    return f"STOQ_API_KEY_{name.upper()}"


def key_of(name: str) -> str:
    return shop_key(int(name.removeprefix("shop")))


def run_way(
    way: str, server: SandboxProcess, args: argparse.Namespace, names: list[str] | None = None
) -> dict[str, Any]:
    """Sync the shops (all by default) one way (fresh rate windows, a fresh file); the figures."""
    names = names or list(server.shops)
    for name in names:
        server.reset_shop(name)
    database = str(fresh_db(f"many_shops_{way}_{len(names)}.duckdb"))
    groups = [[name] for name in names] if way == "processes" else [names]
    procs = start_children(groups, server.base_url, args, database, f"bench-{way}")
    server_cpu = server.cpu_seconds()
    for proc in procs:  # all together
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    outs = []
    for proc in procs:
        out, _ = proc.communicate(timeout=3600)
        if proc.returncode != 0:
            raise RuntimeError(f"a syncing process failed ({proc.returncode})")
        outs.append(json.loads(out.strip().splitlines()[-1]))
    server_cpu = server.cpu_seconds() - server_cpu
    return {
        "cpu_s": sum(o["cpu_s"] for o in outs),
        "server_cpu_s": server_cpu,
        "wall": max(o["ended"] for o in outs) - min(o["started"] for o in outs),
        "peak_mb": [o["peak_mb"] for o in outs],
        "shops": {name: figures for out in outs for name, figures in out["shops"].items()},
        "logs": {name: LogFigures.of(server.shop_log(name)) for name in names},
        "rows": _rows(database),
    }


def _rows(database: str) -> dict[str, int]:
    import duckdb

    with duckdb.connect(database, read_only=True) as conn:
        return dict(conn.execute("select shop, count(*) from orders group by shop").fetchall())


def run(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    print_header(
        "many_shops",
        f"{args.shops} shops x {args.orders:,} orders, latency {args.latency_ms} ms, limit "
        f"{args.points} points / {args.window:g} s per key, {args.concurrency} to "
        f"{args.max_concurrency} in flight per shop, per_page {args.per_page}, "
        f"ways: {', '.join(args.ways)}",
    )
    config = {
        "orders": args.orders,
        "seed": args.seed,
        "latency_ms": args.latency_ms,
        "rate_limit_points": args.points,
        "rate_limit_window": args.window,
    }
    requests, floor = shop_floor(args)
    results: dict[str, dict[str, Any]] = {}
    with SandboxProcess(shops=args.shops, **config) as server:
        print(
            f"# sandbox up in {server.startup_s:.1f} s at {server.url}: {len(server.shops)} shops"
        )
        results["alone"] = alone = run_way("processes", server, args, names=["shop1"])
        print(f"# one shop alone (shop1, a process of its own): {alone['wall']:.2f} s")
        for way in args.ways:
            results[way] = measured = run_way(way, server, args)
            print(report(way, measured, args, (floor, requests), alone["wall"]))
    return results


def report(
    way: str, m: dict[str, Any], args: argparse.Namespace, floor: tuple[float, int], alone: float
) -> str:
    logs: dict[str, LogFigures] = m["logs"]
    limited = sum(log.rate_limited for log in logs.values())
    done = sum(1 for name in logs if m["rows"].get(name) == args.orders)
    failed = {name: f["errors"] for name, f in m["shops"].items() if f["errors"]}
    over = ratio(m["wall"], floor[0])
    slowest = max((f["orders_s"] or 0.0) for f in m["shops"].values())
    rows: list[tuple[Any, ...]] = [
        ("shops committed", done, f"= {len(logs)}", verdict(done == len(logs) and not failed)),
        ("wall time, s", m["wall"], "first go -> last commit", ""),
        ("single-shop floor, s", floor[0], f"{floor[1]} requests of one key", ""),
        ("wall / floor", over, f"<= {GOAL_RATIO}", verdict(over <= GOAL_RATIO)),
        ("one shop alone, s", alone, "shop1 by itself", ""),
        ("wall / one shop alone", ratio(m["wall"], alone), f"one after another: ~{len(logs)}", ""),
        ("slowest shop's orders sync, s", slowest, "its walk + its merge", ""),
        ("CPU, s: syncing processes", m["cpu_s"], "user + sys, go -> commit", ""),
        ("CPU, s: sandbox server", m["server_cpu_s"], "the API's side, same box", ""),
        (
            "CPU floor on this box, s",
            (m["cpu_s"] + m["server_cpu_s"]) / (os.cpu_count() or 1),
            f"both / {os.cpu_count()} cores",
            "",
        ),
        ("429 responses, all keys", limited, "0", verdict(limited == 0)),
    ]
    for name, log in logs.items():
        rows.append((f"  {name}: requests / 429", f"{log.requests} / {log.rate_limited}", "", ""))
    peaks = m["peak_mb"]
    label = "peak RSS per process, MB" if len(peaks) > 1 else "peak RSS, MB"
    rows.append((label, f"max {max(peaks):.1f}, sum {sum(peaks):.1f}", "", ""))
    if failed:
        rows.append(("FAILED", json.dumps(failed)[:200], "", ""))
    title = (
        "processes: one process per shop, all started together"
        if way == "processes"
        else "threads: one process, preorders.many_shops.sync_shops over every shop"
    )
    return table(title, rows, ("figure", "value", "goal / note", "verdict"))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        return child(json.loads(args.child))
    run(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
