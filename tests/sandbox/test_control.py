"""The /_sandbox/ control surface and its Python twins on Shop."""

from __future__ import annotations

from collections import Counter

import httpx
import pytest

from sandbox import mock_transport

ROOT = "http://sandbox.test/_sandbox"


@pytest.fixture
def control(shop):
    with httpx.Client(transport=mock_transport(shop)) as client:
        yield client


def test_truth_matches_api_renders(control, api, shop):
    orders = control.get(f"{ROOT}/truth/orders").json()["orders"]
    assert len(orders) == 500
    assert orders[:100] == api.get("/preorders/orders", params={"per_page": 100}).json()["orders"]
    offers = control.get(f"{ROOT}/truth/offers").json()["offers"]
    assert offers == api.get("/preorders/offers").json()["offers"]


def test_mutate_over_http_changes_states(control, shop):
    before = {o["id"]: o["state"] for o in shop.truth_orders()}
    body = {
        "new_orders": 5,
        "pay_balances": 3,
        "release": 2,
        "cancel": 1,
        "refund": 1,
        "fulfill": 2,
    }
    r = control.post(f"{ROOT}/mutate", json=body)
    assert r.status_code == 200
    out = r.json()
    assert {k: len(v) for k, v in out.items()} == body
    after = {o["id"]: o["state"] for o in shop.truth_orders()}
    assert len(after) == 505 and all(i in after and i not in before for i in out["new_orders"])
    assert all(after[i] in ("balance_collected", "released") for i in out["pay_balances"])
    assert all(after[i] == "released" or before[i] != "balance_collected" for i in out["release"])
    assert all(after[i] == "cancelled" for i in out["cancel"])
    assert all(after[i] == "fulfilled" for i in out["fulfill"])
    assert control.post(f"{ROOT}/mutate", json={"explode": 1}).status_code == 422


def test_mutate_is_seeded(make_shop):
    a, b = make_shop(), make_shop()
    assert a.mutate(release=3, refund=2) == b.mutate(release=3, refund=2)


def test_log_is_keyless_and_counts(control, api, shop):
    api.get("/preorders/orders", params={"per_page": 5})
    api.post("/preorders/orders/bulk_cancel", json={"order_ids": [1]})
    entries = control.get(f"{ROOT}/log").json()["entries"]
    assert [(e["method"], e["status"]) for e in entries] == [("GET", 200), ("POST", 202)]
    assert entries[0]["query"] == "per_page=5" and entries[0]["time"].endswith("Z")
    assert all("stoq_api_key" not in str(e) for e in entries)
    assert shop.count_requests(method="GET", path_prefix="/preorders/orders") == 1
    assert shop.count_requests(path_prefix="/api/v2/external/preorders") == 2


def test_chaos_and_reset_over_http(control, api, shop):
    r = control.post(f"{ROOT}/chaos", json={"error_5xx": 1.0})
    assert r.json()["error_5xx"] == 1.0
    assert api.get("/help").status_code >= 500
    assert control.post(f"{ROOT}/chaos", json={"bogus": 1}).status_code == 422
    shop.mutate(new_orders=4)
    r = control.post(f"{ROOT}/reset")
    assert r.json() == {"reset": True, "orders": 500}
    assert api.get("/help").status_code == 200 and shop.log[-1]["status"] == 200
    assert len(shop.log) == 1
    assert Counter(e["fault"] for e in shop.log) == Counter({None: 1})


def test_unknown_control_path_and_missing_download(control):
    assert control.get(f"{ROOT}/nope").status_code == 404
    assert control.get(f"{ROOT}/downloads/abc.csv").status_code == 404
