"""The real sliding-window limiter: headers on every response, 429 bodies, recovery."""

from __future__ import annotations

import pytest


@pytest.fixture
def tight(make_shop, make_client):
    def make(**overrides):
        shop = make_shop(rate_limit_points=10, **overrides)
        return shop, make_client(shop)

    return make


def test_headers_count_down_and_429_with_v1_body(tight, clock):
    shop, api = tight()
    reset = int(clock.time()) + 60
    for i in range(10):
        r = api.get("/preorders/offers")
        assert r.status_code == 200
        assert r.headers["X-RateLimit-Limit"] == "10"
        assert r.headers["X-RateLimit-Remaining"] == str(9 - i)
        assert r.headers["X-RateLimit-Reset"] == str(reset)
    r = api.get("/preorders/offers")
    assert r.status_code == 429
    assert r.headers["Retry-After"] == "60" and r.headers["X-RateLimit-Remaining"] == "0"
    body = r.json()
    assert body["error"] == "Rate limit exceeded" and body["retry_after"] == 60
    assert "360" not in body["message"] and "10 points per 60 seconds" in body["message"]
    clock.advance(60)
    assert api.get("/preorders/offers").status_code == 200


def test_errors_body_reading(tight):
    shop, api = tight(rate_limit_body="errors")
    for _ in range(10):
        api.get("/help")
    r = api.get("/help")
    assert r.status_code == 429 and list(r.json()) == ["errors"]
    assert r.json()["errors"][0].startswith("Rate limit exceeded")
    assert int(r.headers["Retry-After"]) >= 1


def test_writes_cost_two_and_window_slides(tight, clock):
    shop, api = tight()
    for _ in range(3):
        api.post("/preorders/orders/bulk_cancel", json={"order_ids": [1]})  # 6 points
    clock.advance(30)
    r = api.get("/preorders/offers")
    assert r.headers["X-RateLimit-Remaining"] == "3"
    for _ in range(3):
        api.get("/preorders/offers")
    r = api.get("/preorders/offers")
    assert r.status_code == 429 and r.headers["Retry-After"] == "30"
    clock.advance(30)  # the three writes drop out of the window
    r = api.get("/preorders/offers")
    assert r.status_code == 200 and r.headers["X-RateLimit-Remaining"] == "5"


def test_headers_on_errors_and_refusals_cost_nothing(tight):
    shop, api = tight()
    for path in ("/preorders/orders/1", "/nope"):
        r = api.get(path)
        assert r.status_code == 404 and "X-RateLimit-Remaining" in r.headers
    r = api.get("/preorders/orders", params={"page": 0})
    assert r.status_code == 422 and r.headers["X-RateLimit-Remaining"] == "7"
    for _ in range(7):
        api.get("/help")
    for _ in range(3):
        assert api.get("/help").status_code == 429
    assert shop.limiter.peek(shop.config.api_keys[0], shop.now()).remaining == 0


def test_buckets_are_per_key(make_shop, make_client):
    other = "stoq_api_key_" + "b" * 32
    shop = make_shop(rate_limit_points=2, api_keys=("stoq_api_key_" + "a" * 32, other))
    a, b = make_client(shop, key=shop.config.api_keys[0]), make_client(shop, key=other)
    a.get("/help"), a.get("/help")
    assert a.get("/help").status_code == 429
    assert b.get("/help").status_code == 200
