"""Acceptance plumbing: a shop under one reading, a recording client, sync, truth, releases."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import httpx

import warehouse.schema
from preorders.sync import SyncReport, sync_offers, sync_orders
from sandbox import DEFAULT_API_KEY, ChaosConfig, FakeClock, SandboxConfig, Shop, mock_transport
from stoq import StoqClient

BASE_URL = "http://sandbox.test/api/v2/external"
RELEASE = re.compile(r"/preorders/orders/(\d+)/release$")


@dataclass
class Recorder(httpx.BaseTransport):
    """Wraps the shop's transport and keeps (method, path, query, JSON body) of every request."""

    inner: httpx.BaseTransport
    sent: list[tuple[str, str, str, Any]] = field(default_factory=list)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        raw = request.read()
        body = json.loads(raw) if raw.strip() else None
        self.sent.append((request.method, request.url.path, str(request.url.query), body))
        return self.inner.handle_request(request)


@dataclass
class World:
    """One shop under test, the transport recording what the client sent, and a DuckDB file."""

    shop: Shop
    recorder: Recorder
    db: Path

    def client(self, **kwargs: Any) -> StoqClient:
        clock = self.shop.clock
        return StoqClient(
            DEFAULT_API_KEY,
            BASE_URL,
            transport=self.recorder,
            sleep=clock.sleep,
            clock=clock.monotonic,
            wall_clock=clock.time,
            **kwargs,
        )

    def sync(self, mode: str = "full", run_id: str = "r") -> dict[str, SyncReport]:
        with self.client() as client, duckdb.connect(str(self.db)) as conn:
            warehouse.schema.apply(conn)
            offers = sync_offers(client, conn, run_id=run_id)
            orders = sync_orders(client, conn, run_id=run_id, mode=mode)
        return {"offers": offers, "orders": orders}

    def log_count(self, status: int) -> int:
        return sum(1 for e in self.shop.log if e["status"] == status)


def world(tmp_path: Path, orders: int = 150, chaos: ChaosConfig | None = None, **cfg: Any) -> World:
    """A seeded shop on a fake clock under the given readings (rate limit generous unless set)."""
    cfg.setdefault("rate_limit_points", 1_000_000)
    config = SandboxConfig(orders=orders, chaos=chaos or ChaosConfig(), **cfg)
    shop = Shop(config, clock=FakeClock())
    return World(shop, Recorder(mock_transport(shop)), tmp_path / "w.duckdb")


def _money(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.01"))


def truth_rows(shop: Shop) -> tuple[list[tuple], list[tuple]]:
    """(orders, line items) of the shop's truth, keyed by the Shopify order id."""
    orders, lines = [], []
    for o in shop.truth_orders():
        key, pay = o["shopify_order_id"], o["payments"]
        customer = (o.get("customer") or {}).get("id")
        orders.append(
            (
                key, o["state"], o["financial_status"], o["fulfillment_status"],
                o["cancelled_at"] is not None, _money(o["totals"]["total_price"]),
                _money(pay["deposit"]), _money(pay["balance"]), _money(pay["total_outstanding"]),
                customer, False,
            )
        )  # fmt: skip
        for i, li in enumerate(o["line_items"]):
            lines.append(
                (
                    key,
                    i,
                    li["shopify_variant_id"],
                    li["offer_id"],
                    li["quantity"],
                    _money(li["price"]),
                )
            )
    return sorted(orders), sorted(lines)


def assert_truth(w: World) -> None:
    """orders, order_line_items and offers in DuckDB equal the shop's truth, with no rejects."""
    with duckdb.connect(str(w.db)) as conn:
        orders = conn.execute(
            "select id, state, financial_status, fulfillment_status, cancelled_at is not null,"
            " total_price, deposit, balance, total_outstanding, customer_id, missing_from_api"
            " from orders order by id"
        ).fetchall()
        lines = conn.execute(
            "select order_id, line_index, shopify_variant_id, offer_id, quantity, price"
            " from order_line_items order by order_id, line_index"
        ).fetchall()
        offers = conn.execute(
            "select id, status from offers where missing_since is null"
        ).fetchall()
        rejects = conn.execute("select count(*) from _rejects").fetchone()
    got = [(*r[:5], *map(_money, r[5:9]), *r[9:]) for r in orders]
    want_orders, want_lines = truth_rows(w.shop)
    assert [g[0] for g in got] == [x[0] for x in want_orders], "order keys differ from truth"
    diff = [(g, x) for g, x in zip(got, want_orders, strict=True) if g != x]
    assert not diff, f"{len(diff)} orders differ, e.g. {diff[:2]}"
    assert [(*r[:5], _money(r[5])) for r in lines] == want_lines
    assert sorted(offers) == sorted((o["id"], o["status"]) for o in w.shop.truth_offers())
    assert rejects == (0,)


def releasable_truth(shop: Shop) -> set[int]:
    """Shopify ids of the orders that are held and fully paid right now."""
    return {
        o["shopify_order_id"]
        for o in shop.truth_orders()
        if o["state"] == "balance_collected" and _money(o["payments"]["total_outstanding"]) == 0
    }


def applied_releases(shop: Shop) -> Counter:
    """Releases the shop applied per order: 2xx single POSTs plus bulk items a job processed."""
    counts: Counter = Counter()
    for entry in shop.log:
        match = RELEASE.search(entry["path"])
        if entry["method"] == "POST" and match and 200 <= entry["status"] < 300:
            counts[int(match.group(1))] += 1
    for job in shop.jobs.jobs.values():
        if job.id.startswith("bulk_orders_release_"):
            for order_id in job.items[: job.processed]:
                counts[int(order_id)] += 1
    return counts


def forced(recorder: Recorder) -> list[Any]:
    """Bodies of writes that asked for force."""
    return [b for _, _, _, b in recorder.sent if isinstance(b, dict) and b.get("force")]
