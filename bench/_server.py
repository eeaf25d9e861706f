"""Serve the sandbox over loopback in a process of its own, for the benchmarks.

    python bench/_server.py '{"orders": 50000, "latency_ms": 50, ...}' [--mature-days D]
                            [--open-fraction F] [--max-seconds S] [--shops N]

Prints one JSON line (`{"url": ..., "orders": ...}`) once uvicorn accepts connections, then
serves until its standard input closes or `max_seconds` pass, whichever comes first. A process
of its own, so the emulator and the connector under test do not share one GIL on a 2-core box
(the real API is another machine). `--shops N` serves N shops on the one port, each with its own
key, data and rate window (`sandbox.Shops`); the JSON line then lists them (`shops`: name ->
orders) and each shop's control surface is `/_sandbox/shops/<name>/...`.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time

from sandbox import ChaosConfig, SandboxConfig, Shop, Shops, serve

DAY = 86400.0


def config_from(raw: dict) -> SandboxConfig:
    """A SandboxConfig from plain JSON (a nested `chaos` dict becomes a ChaosConfig)."""
    fields = dict(raw)
    chaos = fields.pop("chaos", None)
    if chaos:
        fields["chaos"] = ChaosConfig(**chaos)
    return SandboxConfig(**fields)


def age_shop(shop: Shop, older_than_days: float) -> dict[str, int]:
    """Close every order created more than `older_than_days` ago, the way a real shop ages.

    Open orders are paid, released and fulfilled; a seeded tenth of them are cancelled instead.
    Recent orders keep their seeded states, so open work sits near the head of the list.
    """
    closed = {"fulfilled": 0, "cancelled": 0}
    with shop.lock:
        now = shop.now()
        cutoff = now - older_than_days * DAY
        for order in shop.orders:
            if order.created_at >= cutoff:
                continue
            state = order.state
            if state not in ("placed", "awaiting_balance", "balance_collected", "released"):
                continue
            if state in ("placed", "awaiting_balance") and order.id % 10 == 0:
                order.cancel(now)
                closed["cancelled"] += 1
                continue
            if state in ("placed", "awaiting_balance"):
                if order.outstanding_cents > 0:
                    order.charge_balance(now)
                order.release(now, force=True)
            elif state == "balance_collected":
                order.release(now)
            order.fulfill(now)
            closed["fulfilled"] += 1
    return closed


def scatter_open(shop: Shop, open_fraction: float) -> dict[str, int]:
    """Close all but `open_fraction` of the orders with `shop.mutate` alone (random ages).

    Every open order is paid and released, then all but the target number are fulfilled, so
    the few open orders left are scattered over the whole history: the hard case for an
    incremental plan.
    """
    with shop.lock:
        n = len(shop.orders)
        shop.mutate(pay_balances=n, release=n)
        released = sum(1 for o in shop.orders if o.state == "released")
        target = int(open_fraction * n)
        done = shop.mutate(fulfill=max(0, released - target))
        return {"fulfilled": len(done.get("fulfill", []))}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("config", help="SandboxConfig fields as JSON")
    parser.add_argument("--mature-days", type=float, default=None)
    parser.add_argument("--open-fraction", type=float, default=None)
    parser.add_argument("--max-seconds", type=float, default=1800.0)
    parser.add_argument("--shops", type=int, default=None, help="serve N shops (sandbox.Shops)")
    args = parser.parse_args()
    if args.shops is not None:
        return serve_shops(config_from(json.loads(args.config)), args.shops, args.max_seconds)
    shop = Shop(config_from(json.loads(args.config)))
    aged = age_shop(shop, args.mature_days) if args.mature_days is not None else {}
    if args.open_fraction is not None:
        aged = scatter_open(shop, args.open_fraction)
    running = serve(shop)
    print(json.dumps({"url": running.url, "orders": len(shop.orders), "aged": aged}), flush=True)
    wait_for_parent(args.max_seconds)
    running.stop()
    return 0


def serve_shops(config: SandboxConfig, n: int, max_seconds: float) -> int:
    """Serve `n` shops on one port (shop k: `shop<k>`, key `sandbox.shop_key(k)`)."""
    shops = Shops.seeded(n, config)
    running = serve(shops)
    listed = {name: len(shop.orders) for name, shop in shops}
    first = len(shops.first.orders)
    print(json.dumps({"url": running.url, "orders": first, "shops": listed}), flush=True)
    wait_for_parent(max_seconds)
    running.stop()
    return 0


def wait_for_parent(max_seconds: float) -> None:
    """Return once the parent closes our stdin (or dies), or `max_seconds` pass."""
    done = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
    deadline = time.monotonic() + max_seconds
    while not done.wait(0.5) and time.monotonic() < deadline:
        pass


if __name__ == "__main__":
    sys.exit(main())
