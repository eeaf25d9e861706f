"""100,000 orders: seeding completes and pages stay correct at the ends and in the middle."""

from __future__ import annotations

import time

import pytest

from sandbox import SandboxConfig, Shop


@pytest.mark.slow
def test_100k_orders_seed_and_page(clock, make_client):
    started = time.perf_counter()
    shop = Shop(SandboxConfig(orders=100_000, rate_limit_points=10**9), clock=clock)
    print(f"seeded 100k orders in {time.perf_counter() - started:.2f}s")
    api = make_client(shop)
    first = api.get("/preorders/orders", params={"per_page": 100}).json()
    assert first["meta"] == {
        "total_count": 100_000,
        "page": 1,
        "per_page": 100,
        "total_pages": 1000,
    }
    keys = []
    for page in (499, 500, 501, 1000):
        body = api.get("/preorders/orders", params={"per_page": 100, "page": page}).json()
        assert len(body["orders"]) == 100
        keys.append([(o["created_at"], o["id"]) for o in body["orders"]])
    flat = keys[0] + keys[1] + keys[2]
    assert flat == sorted(flat, reverse=True) and len(set(flat)) == 300
    assert keys[3][-1][1] == min(shop.orders.by_id)  # oldest order ends the last page
    assert (
        api.get("/preorders/orders", params={"page": 1001, "per_page": 100}).json()["orders"] == []
    )
    day = first["orders"][0]["created_at"][:10]
    window = api.get("/preorders/orders", params={"from": day, "per_page": 100}).json()
    assert 0 < window["meta"]["total_count"] < 100_000
    assert all(o["created_at"] >= day for o in window["orders"])
