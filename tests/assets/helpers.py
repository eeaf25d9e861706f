"""Build sandbox shops and run the plain-Python sync against them in-process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

import warehouse.schema
from preorders.sync import sync_offers, sync_orders
from preorders.sync_report import SyncReport
from sandbox import DEFAULT_API_KEY, ChaosConfig, FakeClock, SandboxConfig, Shop, mock_transport
from stoq import StoqClient

BASE_URL = "http://sandbox.test/api/v2/external"
OPEN = ("placed", "awaiting_balance", "balance_collected", "released")
CHAOS = ChaosConfig(
    error_5xx=0.04, burst_429=0.03, drop=0.02, truncate=0.02, new_orders_during_walk=2,
    drift_every=4,
)  # fmt: skip


def make_shop(orders: int = 600, chaos: ChaosConfig | None = None, **config: Any) -> Shop:
    """A seeded shop on a fake clock (so retries, Retry-After and latency never really sleep)."""
    config.setdefault("rate_limit_points", 100_000)
    cfg = SandboxConfig(orders=orders, chaos=chaos or ChaosConfig(), **config)
    return Shop(cfg, clock=FakeClock())


def mature(shop: Shop, open_days: float = 21, keep_old_open: int = 8) -> None:
    """Close most orders older than `open_days` (paid, released, fulfilled), like a real shop.

    Every order newer than that stays as seeded; `keep_old_open` old open orders stay open, so
    the incremental planner has a few stragglers to read one by one.
    """
    now = shop.now()
    with shop.lock:
        old = [o for o in shop.orders if o.created_at < now - open_days * 86400]
        stragglers = {o.id for o in old if o.state in OPEN}
        keep = set(sorted(stragglers)[:: max(1, len(stragglers) // keep_old_open)][:keep_old_open])
        for order in old:
            if order.id in keep or order.state not in OPEN:
                continue
            if order.outstanding_cents > 0:
                order.charge_balance(now)
            if order.state == "balance_collected":
                order.release(now)
            if order.state == "released":
                order.fulfill(now)


def client_for(shop: Shop, **kwargs: Any) -> StoqClient:
    """A StoqClient over mock_transport, sleeping on the shop's fake clock."""
    clock = shop.clock
    return StoqClient(
        DEFAULT_API_KEY,
        BASE_URL,
        transport=mock_transport(shop),
        sleep=clock.sleep,
        clock=clock.monotonic,
        wall_clock=clock.time,
        **kwargs,
    )


def run_sync(shop: Shop, db: Path, mode: str = "auto", run_id: str = "r") -> dict[str, SyncReport]:
    """Sync offers then orders into the DuckDB file `db`; returns both reports."""
    with client_for(shop) as client, duckdb.connect(str(db)) as conn:
        warehouse.schema.apply(conn)
        offers = sync_offers(client, conn, run_id=run_id)
        orders = sync_orders(client, conn, run_id=run_id, mode=mode)
    return {"offers": offers, "orders": orders}
