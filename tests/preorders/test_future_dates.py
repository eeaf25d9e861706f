"""An order dated in the future by a wrong clock never moves the high-water mark past now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
import httpx

import warehouse.schema
from preorders.sync import SyncSettings, choose_mode, sync_orders
from stoq import StoqClient
from tests.warehouse.factory import order
from warehouse import loads

KEY = "stoq_api_key_" + "f" * 32
BASE_URL = "https://stoq.test/api/v2/external"


def newest_first(orders: list[dict[str, Any]]) -> httpx.MockTransport:
    """A list endpoint honouring `from`, newest first, as the sandbox does."""

    def created(record: dict[str, Any]) -> datetime:
        return datetime.fromisoformat(record["created_at"].replace("Z", "+00:00"))

    def handle(request: httpx.Request) -> httpx.Response:
        since = request.url.params.get("from")
        rows = sorted(orders, key=created, reverse=True)
        if since:
            bound = datetime.fromisoformat(since.replace("Z", "+00:00"))
            rows = [o for o in rows if created(o) >= bound]
        page, size = int(request.url.params.get("page", 1)), 25
        meta = {"total_count": len(rows), "per_page": size, "total_pages": -(-len(rows) // size)}
        return httpx.Response(
            200, json={"orders": rows[(page - 1) * size : page * size], "meta": meta}
        )

    return httpx.MockTransport(handle)


def test_a_far_future_order_sets_no_mark_and_new_orders_are_still_found() -> None:
    orders = [order(i, created_at=f"2025-07-01T10:0{i}:00Z") for i in range(1, 6)]
    orders.append(order(99, created_at="2999-01-01T00:00:00Z"))  # the server's clock is wrong
    conn = duckdb.connect()
    warehouse.schema.apply(conn)
    with StoqClient(KEY, BASE_URL, transport=newest_first(orders)) as client:
        sync_orders(client, conn, run_id="r1", mode="full")
        mark = loads.sync_state(conn, "orders")["high_water_mark"]
        assert mark == datetime(2025, 7, 1, 10, 5, tzinfo=UTC)  # the newest order not ahead of now
        orders += [order(i, created_at=f"2026-01-02T00:00:0{i - 200}Z") for i in range(201, 204)]
        report = sync_orders(client, conn, run_id="r2", mode="incremental")
    assert report.mode == "incremental" and report.complete
    stored = {row[0] for row in conn.execute("select id from orders").fetchall()}
    assert {201, 202, 203} <= stored


def test_a_stored_mark_in_the_future_is_not_trusted() -> None:
    now, s = datetime(2026, 3, 1, tzinfo=UTC), SyncSettings()
    recent_full = now - timedelta(hours=2)
    ahead = {"high_water_mark": now + timedelta(days=300), "last_full_at": recent_full}
    skewed = {"high_water_mark": now + timedelta(minutes=30), "last_full_at": recent_full}
    assert choose_mode("auto", ahead, now, s) == "full"
    assert choose_mode("incremental", ahead, now, s) == "full"
    assert choose_mode("auto", skewed, now, s) == "incremental"  # within the clock skew


def test_a_mark_a_wrong_clock_stored_is_replaced_by_the_next_complete_walk() -> None:
    orders = [order(i, created_at=f"2025-07-01T10:0{i}:00Z") for i in range(1, 6)]
    conn = duckdb.connect()
    warehouse.schema.apply(conn)
    with StoqClient(KEY, BASE_URL, transport=newest_first(orders)) as client:
        sync_orders(client, conn, run_id="r1", mode="full")
        # As an older version left it: a mark in year 2999 never moves backwards by itself.
        conn.execute("update sync_state set high_water_mark = '2999-01-01 00:00:00+00'")
        repaired = sync_orders(client, conn, run_id="r2", mode="auto")
        assert repaired.mode == "full" and repaired.complete
        mark = loads.sync_state(conn, "orders")["high_water_mark"]
        assert mark == datetime(2025, 7, 1, 10, 5, tzinfo=UTC)
        assert sync_orders(client, conn, run_id="r3", mode="auto").mode == "incremental"
