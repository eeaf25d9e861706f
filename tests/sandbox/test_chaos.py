"""Every chaos fault through mock_transport, plus drift and determinism."""

from __future__ import annotations

import json

import httpx
import pytest

from sandbox import ChaosConfig


def _awaiting(shop):
    return next(o for o in shop.orders if o.state == "awaiting_balance")


def test_5xx_is_charged_and_not_applied(shop, api):
    order = _awaiting(shop)
    shop.set_chaos(error_5xx=1.0)
    r = api.post(f"/preorders/orders/{order.id}/payments/charge_balance")
    assert r.status_code in (500, 502, 503) and r.json()["errors"]
    assert "X-RateLimit-Remaining" in r.headers
    assert order.state == "awaiting_balance"


def test_429_burst_lasts_burst_length(shop, api):
    shop.set_chaos(burst_429=1.0, burst_length=3, burst_retry_after=2)
    first = api.get("/help")
    assert first.status_code == 429 and first.headers["Retry-After"] == "2"
    assert first.json()["retry_after"] == 2
    shop.chaos.config = shop.chaos.config.updated({"burst_429": 0.0})  # keep the burst running
    assert [api.get("/help").status_code for _ in range(3)] == [429, 429, 200]


def test_drop_raises_and_does_not_apply(shop, api):
    order = _awaiting(shop)
    shop.set_chaos(drop=1.0)
    with pytest.raises(httpx.ReadError) as info:
        api.post(f"/preorders/orders/{order.id}/payments/charge_balance")
    assert info.value.request.url.path.endswith("charge_balance")
    assert order.state == "awaiting_balance"
    assert shop.log[-1]["fault"] == "drop"


def test_drop_after_apply_applies_writes_only(shop, api):
    order = _awaiting(shop)
    shop.set_chaos(drop_after_apply=1.0)
    assert api.get("/help").status_code == 200
    with pytest.raises(httpx.RemoteProtocolError):
        api.post(f"/preorders/orders/{order.id}/payments/charge_balance")
    assert order.state == "balance_collected"
    assert shop.log[-1]["fault"] == "drop_after_apply"


def test_truncate_cuts_body_with_consistent_length(shop, api):
    shop.set_chaos(truncate=1.0)
    r = api.get("/preorders/orders")
    assert r.status_code == 200 and int(r.headers["Content-Length"]) == len(r.content)
    with pytest.raises(json.JSONDecodeError):
        r.json()
    shop.set_chaos(truncate=0.0)
    assert api.get("/preorders/orders").json()["orders"]


def test_latency_sleeps_on_the_shop_clock(make_shop, make_client, clock):
    api = make_client(make_shop(latency_ms=250))
    start = clock.time()
    api.get("/help")
    api.get("/help")
    assert clock.time() == pytest.approx(start + 0.5)


def test_latency_jitter_is_bounded(make_shop, make_client, clock):
    api = make_client(make_shop(chaos=ChaosConfig(latency_ms=100, latency_jitter_ms=50)))
    for _ in range(5):
        before = clock.time()
        api.get("/help")
        assert 0.1 <= clock.time() - before <= 0.15


def test_drift_adds_orders_at_the_head_every_kth_list(shop, api):
    shop.set_chaos(new_orders_during_walk=3, drift_every=2)
    first = api.get("/preorders/orders").json()
    assert first["meta"]["total_count"] == 500
    second = api.get("/preorders/orders").json()
    assert second["meta"]["total_count"] == 503
    new_ids = [o["id"] for o in second["orders"][:3]]
    assert second["orders"][3]["id"] == first["orders"][0]["id"]
    assert all(i > first["orders"][0]["id"] for i in new_ids)
    api.get("/preorders/offers")  # only list-orders requests count
    assert api.get("/preorders/orders").json()["meta"]["total_count"] == 503
    assert api.get("/preorders/orders").json()["meta"]["total_count"] == 506


def test_faults_are_deterministic_per_seed(make_shop, make_client):
    def run():
        shop = make_shop(chaos=ChaosConfig(error_5xx=0.3, truncate=0.3))
        api = make_client(shop)
        return [api.get("/help").status_code for _ in range(30)], [e["fault"] for e in shop.log]

    assert run() == run()
    statuses, faults = run()
    assert 200 in statuses and any(s >= 500 for s in statuses) and "truncate" in faults


def test_unknown_chaos_field_is_rejected(shop):
    with pytest.raises(ValueError, match="unknown chaos fields: nope"):
        shop.set_chaos(nope=1)
