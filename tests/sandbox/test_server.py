"""The sandbox over a real loopback socket via serve(): reads, writes, concurrency and faults."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from sandbox import DEFAULT_API_KEY, SandboxConfig, create_app, serve


@pytest.fixture(scope="module")
def running():
    with serve(SandboxConfig(orders=300, rate_limit_points=100_000)) as sandbox:
        yield sandbox


@pytest.fixture
def client(running):
    running.shop.set_chaos(drop=0.0, truncate=0.0, drop_after_apply=0.0)
    with httpx.Client(
        base_url=running.base_url, headers={"X-Auth-Token": DEFAULT_API_KEY}, timeout=10
    ) as c:
        yield c


def test_urls_and_app_state(running):
    assert running.url.startswith("http://127.0.0.1:") and not running.url.endswith(":0")
    assert running.base_url == running.url + "/api/v2/external"
    assert create_app(SandboxConfig(orders=5)).state.shop.config.orders == 5


def test_reads_writes_and_auth_over_the_socket(running, client):
    assert httpx.get(running.base_url + "/help").status_code == 401
    body = client.get("/preorders/orders", params={"per_page": 10}).json()
    assert body["meta"]["total_count"] == 300 and len(body["orders"]) == 10
    assert client.get("/preorders/skill.md").headers["content-type"].startswith("text/markdown")
    order = next(o for o in running.shop.orders if o.state == "balance_collected")
    r = client.post(f"/preorders/orders/{order.id}/release")
    assert r.status_code == 202 and r.json()["state"] == "released"
    assert client.post("/preorders/orders/bulk_release", content=b"{").status_code == 400


def test_requests_run_concurrently():
    """Eight 300 ms responses overlap instead of queueing (serially they would take 2.4 s)."""
    with (
        serve(SandboxConfig(orders=10, latency_ms=300)) as slow,
        httpx.Client(base_url=slow.base_url, headers={"X-Auth-Token": DEFAULT_API_KEY}) as c,
        ThreadPoolExecutor(8) as pool,
    ):
        started = time.perf_counter()
        statuses = list(pool.map(lambda _: c.get("/help").status_code, range(8)))
        elapsed = time.perf_counter() - started
    assert statuses == [200] * 8
    assert elapsed < 1.2


def test_drop_is_an_incomplete_message(running, client):
    running.shop.set_chaos(drop=1.0)
    with pytest.raises(httpx.RemoteProtocolError):
        client.get("/preorders/orders")
    running.shop.set_chaos(drop=0.0)
    assert client.get("/preorders/orders").status_code == 200


def test_drop_after_apply_loses_the_response_but_applies(running, client):
    order = next(o for o in running.shop.orders if o.state == "awaiting_balance")
    running.shop.set_chaos(drop_after_apply=1.0)
    with pytest.raises(httpx.RemoteProtocolError):
        client.post(f"/preorders/orders/{order.id}/payments/charge_balance")
    running.shop.set_chaos(drop_after_apply=0.0)
    assert client.get(f"/preorders/orders/{order.id}").json()["state"] == "balance_collected"


def test_truncate_is_a_complete_but_cut_body(running, client):
    running.shop.set_chaos(truncate=1.0)
    r = client.get("/preorders/orders")
    assert r.status_code == 200 and int(r.headers["content-length"]) == len(r.content)
    with pytest.raises(json.JSONDecodeError):
        r.json()


def test_control_surface_and_export_download_over_the_socket(running, client):
    truth = httpx.get(running.url + "/_sandbox/truth/offers").json()["offers"]
    assert len(truth) == 12
    handle = client.post("/preorders/reports/summary/export", json={}).json()
    for _ in range(4):
        status = client.get(running.url + handle["status_url"]).json()
    assert status["status"] == "ready" and status["download_url"].startswith(running.url)
    csv_text = httpx.get(status["download_url"]).text
    assert csv_text.startswith("orders,customers,units,revenue")
