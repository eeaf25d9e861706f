"""An order that vanishes mid-walk shifts the list: the window is walked again, so the live order
that slid past unseen is never flagged missing."""

from __future__ import annotations

import threading
from typing import Any

import duckdb
import httpx

import warehouse.schema
from preorders.sync import sync_orders
from stoq import StoqClient
from tests.warehouse.factory import order

KEY = "stoq_api_key_" + "v" * 32
BASE_URL = "https://stoq.test/api/v2/external"


class Vanishing:
    """Newest first, 25 a page, `from` honoured; `vanish` times, the newest order is deleted
    as page 2 is served (after that page's count was taken); `arrive` times, a new one comes
    as page 4 is."""

    def __init__(self, count: int) -> None:
        self.orders = [order(i, created_at=f"2025-07-01T{i // 60:02d}:{i % 60:02d}:00Z")
                       for i in range(count, 0, -1)]  # fmt: skip
        self.vanish, self.arrive, self.lock = 0, 0, threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        page, size = int(request.url.params.get("page", 1)), 25
        since = request.url.params.get("from", "")
        with self.lock:
            rows = [o for o in self.orders if o["created_at"] >= since.replace("+00:00", "Z")]
            if page == 2 and self.vanish:
                self.vanish -= 1
                self.orders.pop(0)
            if page == 4 and self.arrive:  # a new order brings the count back up
                self.arrive -= 1
                self.orders.insert(0, order(1000 + self.arrive, created_at="2025-07-02T00:00:00Z"))
        meta = {"total_count": len(rows), "per_page": size, "total_pages": -(-len(rows) // size)}
        return httpx.Response(
            200, json={"orders": rows[(page - 1) * size : page * size], "meta": meta}
        )


def sync(api: Vanishing, conn: duckdb.DuckDBPyConnection, run_id: str) -> Any:
    one_at_a_time = {"concurrency": 1, "max_concurrency": 1}  # page 2 before page 3, always
    with StoqClient(KEY, BASE_URL, transport=httpx.MockTransport(api), **one_at_a_time) as client:
        return sync_orders(client, conn, run_id=run_id, mode="full")


def test_an_order_deleted_mid_walk_flags_no_live_order_missing() -> None:
    conn = duckdb.connect()
    warehouse.schema.apply(conn)
    api = Vanishing(120)
    sync(api, conn, "r1")
    api.vanish = 1
    report = sync(api, conn, "r2")
    assert report.complete and report.walks >= 2  # the shrunken walk was walked again
    flagged = conn.execute("select id from orders where missing_from_api").fetchall()
    assert flagged == []  # the vanished one is flagged by the next full walk, no live one ever
    report = sync(api, conn, "r3")
    assert conn.execute("select id from orders where missing_from_api").fetchall() == [(120,)]


def test_a_deletion_hidden_by_a_new_order_is_still_walked_again() -> None:
    conn = duckdb.connect()
    warehouse.schema.apply(conn)
    api = Vanishing(120)
    sync(api, conn, "r1")
    api.vanish, api.arrive = 1, 1  # counts 120, 120, 119, 120: the end equals the start
    report = sync(api, conn, "r2")
    assert report.complete
    assert conn.execute("select id from orders where missing_from_api").fetchall() == []
    assert conn.execute("select count(*) from orders where id = 1000").fetchone() == (1,)
