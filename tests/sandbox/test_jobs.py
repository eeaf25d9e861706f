"""Bulk jobs: submission handles, progress over polls, swallowed failures, expiry and control."""

from __future__ import annotations

import re

from sandbox import BASE_PATH


def _poll(api, handle):
    return api.get(handle["status_url"].removeprefix(BASE_PATH)).json()


def test_bulk_release_progresses_and_swallows_failures(api, shop):
    ready = [o.id for o in shop.orders if o.state == "balance_collected"][:5]
    blocked = [o.id for o in shop.orders if o.state == "awaiting_balance"][:3]
    ids = ready + blocked + [1]
    r = api.post("/preorders/orders/bulk_release", json={"order_ids": ids})
    assert r.status_code == 202
    handle = r.json()
    assert re.fullmatch(r"bulk_orders_release_[0-9a-f]{16}", handle["job_id"])
    assert handle["status_url"] == f"{BASE_PATH}/preorders/orders/jobs/{handle['job_id']}"
    assert handle["order_count"] == 9
    seen = [_poll(api, handle) for _ in range(4)]
    assert [s["status"] for s in seen] == ["running", "running", "running", "completed"]
    processed = [s["processed"] for s in seen]
    assert processed == sorted(processed) and processed[-1] == 9
    assert seen[-1]["progress"] == 100 and seen[-1]["total"] == 9 and "error" not in seen[-1]
    assert {shop.orders.get(i).state for i in ready} == {"released"}
    assert {shop.orders.get(i).state for i in blocked} == {"awaiting_balance"}


def test_bulk_release_force_and_other_bulk_actions(api, shop):
    blocked = [o.id for o in shop.orders if o.state == "awaiting_balance"][:3]
    h = api.post(
        "/preorders/orders/bulk_release", json={"order_ids": blocked, "force": True}
    ).json()
    for _ in range(4):
        _poll(api, h)
    assert {shop.orders.get(i).state for i in blocked} == {"released"}
    h = api.post("/preorders/orders/bulk_set_tags", json={"order_ids": blocked, "tags": ["x"]})
    assert h.json()["job_id"].startswith("bulk_orders_set_tags_")
    for _ in range(4):
        _poll(api, h.json())
    assert all(shop.orders.get(i).tags == ["x"] for i in blocked)
    owing = [o.id for o in shop.orders if o.state == "placed"][:2]
    h = api.post("/preorders/orders/bulk_send_payment_collection_url", json={"order_ids": owing})
    for _ in range(4):
        _poll(api, h.json())
    assert all(shop.orders.get(i).collection_url_sent_at for i in owing)
    h = api.post("/preorders/orders/bulk_cancel", json={"order_ids": owing}).json()
    for _ in range(4):
        _poll(api, h)
    assert {shop.orders.get(i).state for i in owing} == {"cancelled"}


def test_job_expires_to_404_after_ttl(api, shop, clock):
    h = api.post("/preorders/orders/bulk_cancel", json={"order_ids": [1]}).json()
    for _ in range(4):
        _poll(api, h)
    clock.advance(3599)
    assert api.get(h["status_url"].removeprefix(BASE_PATH)).status_code == 200
    clock.advance(1)
    r = api.get(h["status_url"].removeprefix(BASE_PATH))
    assert r.status_code == 404 and r.json() == {"errors": ["Job not found"]}


def test_running_jobs_do_not_expire(api, clock):
    h = api.post("/preorders/orders/bulk_cancel", json={"order_ids": [1, 2]}).json()
    clock.advance(10 * 3600)
    assert _poll(api, h)["status"] == "running"


def test_force_job_status_failed_and_cancelled(api, shop):
    h = api.post("/preorders/orders/bulk_cancel", json={"order_ids": [1, 2]}).json()
    shop.force_job_status(h["job_id"], "failed", error="Shopify timed out")
    body = _poll(api, h)
    assert body["status"] == "failed" and body["error"] == "Shopify timed out"
    h = api.post("/preorders/orders/bulk_cancel", json={"order_ids": [1]}).json()
    shop.force_job_status(h["job_id"], "cancelled")
    assert _poll(api, h)["status"] == "cancelled"


def test_job_steps_zero_completes_at_once_and_absolute_status_url(make_shop, make_client):
    shop = make_shop(job_steps=0, status_url_style="absolute")
    api = make_client(shop)
    h = api.post("/preorders/orders/bulk_cancel", json={"order_ids": [1]}).json()
    assert h["status_url"].startswith("http://sandbox.test/api/v2/external/preorders/orders/jobs/")
    assert api.get(h["status_url"]).json()["status"] == "completed"


def test_job_polled_under_the_wrong_prefix_is_404(api):
    h = api.post("/preorders/orders/bulk_cancel", json={"order_ids": [1]}).json()
    r = api.get(f"/preorders/product_variants/jobs/{h['job_id']}")
    assert r.status_code == 404
