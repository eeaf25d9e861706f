"""Orders: list semantics (sort, pagination, filters, post-fetch state), shape and actions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sandbox.orders import STATES


def _ids(body):
    return [o["id"] for o in body["orders"]]


def test_list_sorted_newest_first_and_pages_partition(api, shop):
    seen = []
    meta = api.get("/preorders/orders", params={"per_page": 100}).json()["meta"]
    assert meta == {"total_count": 500, "page": 1, "per_page": 100, "total_pages": 5}
    for page in range(1, 6):
        body = api.get("/preorders/orders", params={"per_page": 100, "page": page}).json()
        seen += [(o["created_at"], o["id"]) for o in body["orders"]]
    assert seen == sorted(seen, reverse=True) and len(set(seen)) == 500
    assert [o["id"] for o in shop.truth_orders()] == [i for _, i in seen]


def test_per_page_default_clamp_and_out_of_range_page(api, make_shop, make_client):
    assert api.get("/preorders/orders").json()["meta"]["per_page"] == 25
    body = api.get("/preorders/orders", params={"per_page": 1000}).json()
    assert body["meta"]["per_page"] == 100 and len(body["orders"]) == 100
    assert body["meta"]["total_pages"] == 5
    far = api.get("/preorders/orders", params={"page": 99}).json()
    assert far["orders"] == [] and far["meta"]["page"] == 99 and far["meta"]["total_count"] == 500
    strict = make_client(make_shop(per_page_over_max="error"))
    r = strict.get("/preorders/orders", params={"per_page": 101})
    assert r.status_code == 422 and r.json() == {"errors": ["per_page must be <= 100"]}


def test_state_filter_is_post_fetch_with_short_pages(api, shop):
    params = {"state": "awaiting_balance", "per_page": 50}
    pages = [
        api.get("/preorders/orders", params={**params, "page": p}).json() for p in range(1, 11)
    ]
    assert all(p["meta"]["total_count"] == 500 for p in pages)  # pre-filter meta
    lengths = [len(p["orders"]) for p in pages]
    assert all(n < 50 for n in lengths) and sum(lengths) > 0
    got = [o["id"] for p in pages for o in p["orders"]]
    truth = [o["id"] for o in shop.truth_orders() if o["state"] == "awaiting_balance"]
    assert got == truth


def test_state_filter_pre_fetch_reading(make_shop, make_client):
    shop = make_shop(state_filter="pre_fetch")
    api = make_client(shop)
    body = api.get("/preorders/orders", params={"state": "refunded", "per_page": 100}).json()
    truth = [o["id"] for o in shop.truth_orders() if o["state"] == "refunded"]
    assert body["meta"]["total_count"] == len(truth) and _ids(body) == truth[:100]


def test_filters_offer_variant_customer(api, shop):
    order = shop.orders.newest()
    li = order.line_items[0]
    for key, value, test in (
        ("offer_id", li.offer_id, lambda o: li.offer_id in o["offer_ids"]),
        (
            "variant_id",
            li.variant_id,
            lambda o: any(x["shopify_variant_id"] == li.variant_id for x in o["line_items"]),
        ),
        ("customer_id", order.customer.id, lambda o: o["customer"]["id"] == order.customer.id),
    ):
        body = api.get("/preorders/orders", params={key: value, "per_page": 100}).json()
        truth = [o for o in shop.truth_orders() if test(o)]
        assert body["meta"]["total_count"] == len(truth) > 0
        assert _ids(body) == [o["id"] for o in truth][:100]


def test_from_to_window_utc_with_inclusive_date_only_to(api, shop):
    truth = shop.truth_orders()
    day = truth[40]["created_at"][:10]
    params = {"from": day, "to": day, "per_page": 100}
    body = api.get("/preorders/orders", params=params).json()
    expected = [o["id"] for o in truth if o["created_at"][:10] == day]
    assert _ids(body) == expected and expected
    exact = truth[40]["created_at"]
    body = api.get("/preorders/orders", params={"to": exact, "per_page": 1}).json()
    assert body["orders"][0]["created_at"] == exact  # datetime `to` is inclusive
    body = api.get("/preorders/orders", params={"from": exact.replace("Z", "+00:00")}).json()
    assert body["meta"]["total_count"] == sum(o["created_at"] >= exact for o in truth)
    assert api.get("/preorders/orders", params={"from": "yesterday"}).status_code == 422


def test_read_shape_matches_spec(api, shop):
    order = shop.orders.newest()
    body = api.get(f"/preorders/orders/{order.id}").json()
    assert body["id"] == body["shopify_order_id"] == order.id
    for key in (
        "name",
        "state",
        "created_at",
        "financial_status",
        "fulfillment_status",
        "cancelled_at",
        "currency",
        "offer_ids",
        "tags",
    ):
        assert key in body
    assert set(body["customer"]) == {"id", "email", "name"}
    assert set(body["payments"]) >= {"deposit", "balance", "total_outstanding", "charged_at"}
    assert body["totals"]["total_price"].count(".") == 1
    assert 1 <= len(body["line_items"]) <= 3
    assert set(body["line_items"][0]) >= {
        "shopify_variant_id",
        "shopify_product_id",
        "quantity",
        "offer_id",
    }
    datetime.strptime(body["created_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def test_seed_covers_every_state_and_is_deterministic(make_shop):
    a, b = make_shop(seed=11), make_shop(seed=11)
    assert {o["state"] for o in a.truth_orders()} == set(STATES)
    assert a.truth_orders() == b.truth_orders() and a.truth_offers() == b.truth_offers()
    assert make_shop(seed=12).truth_orders() != a.truth_orders()


def _order(shop, **fields):
    order = shop.orders.newest()
    for key, value in fields.items():
        setattr(order, key, value)
    return order


@pytest.mark.parametrize(
    ("fields", "state"),
    [
        ({"cancelled_at": 1.0, "financial_status": "refunded"}, "cancelled"),
        ({"financial_status": "refunded", "fulfillment_status": "fulfilled"}, "refunded"),
        ({"fulfillment_status": "fulfilled", "paid_cents": 0}, "fulfilled"),
        ({"fulfillment_status": "unfulfilled", "paid_cents": 0}, "released"),
        ({"fulfillment_status": "on_hold", "paid_cents": 10**9}, "balance_collected"),
        ({"fulfillment_status": "scheduled", "paid_cents": 1}, "awaiting_balance"),
        ({"fulfillment_status": "on_hold", "paid_cents": 0}, "placed"),
    ],
)
def test_state_precedence(shop, api, fields, state):
    base = {"cancelled_at": None, "financial_status": "partially_paid"}
    order = _order(shop, **{**base, **fields})
    assert order.state == state
    assert api.get(f"/preorders/orders/{order.id}").json()["state"] == state


def _first(shop, state):
    return next(o for o in shop.orders if o.state == state)


def test_release_needs_balance_unless_forced(api, shop):
    order = _first(shop, "awaiting_balance")
    r = api.post(f"/preorders/orders/{order.id}/release")
    assert r.status_code == 409
    assert r.json() == {
        "errors": [
            f"Cannot release order {order.id}: balance not collected (state: awaiting_balance). "
            "Charge the balance first or pass force: true."
        ]
    }
    r = api.post(f"/preorders/orders/{order.id}/release", json={"force": True})
    assert r.status_code == 202 and r.json()["state"] == "released"
    assert api.post(f"/preorders/orders/{order.id}/release").status_code == 409


def test_force_does_not_override_cancelled_or_refunded(api, shop):
    for state in ("cancelled", "refunded"):
        order = _first(shop, state)
        r = api.post(f"/preorders/orders/{order.id}/release", json={"force": True})
        assert r.status_code == 409 and f"state: {state}" in r.json()["errors"][0]


def test_charge_cancel_refund_tags_and_payment_link(api, shop):
    order = _first(shop, "awaiting_balance")
    base = f"/preorders/orders/{order.id}"
    r = api.post(f"{base}/payments/send_payment_collection_url")
    assert r.status_code == 202 and r.json()["payments"]["collection_url_sent_at"]
    r = api.post(f"{base}/payments/charge_balance")
    assert r.status_code == 202
    assert r.json()["state"] == "balance_collected"
    assert (
        r.json()["payments"]["total_outstanding"] == "0.00" and r.json()["payments"]["charged_at"]
    )
    assert api.post(f"{base}/payments/charge_balance").status_code == 409
    assert api.post(f"{base}/payments/send_payment_collection_url").status_code == 409
    assert api.post(f"{base}/release").json()["state"] == "released"
    r = api.post(f"{base}/tags/set", json={"tags": ["a", "b", "a"]})
    assert r.json()["tags"] == ["a", "b"]
    assert api.post(f"{base}/tags/add", json={"tags": ["c"]}).json()["tags"] == ["a", "b", "c"]
    assert api.post(f"{base}/tags/remove", json={"tags": ["a"]}).json()["tags"] == ["b", "c"]
    assert (
        api.post(f"{base}/payments/refund", json={"reason": "late"}).json()["state"] == "refunded"
    )
    assert api.post(f"{base}/payments/refund").status_code == 409
    assert api.post(f"{base}/cancel").json()["state"] == "cancelled"
    assert api.post(f"{base}/cancel").status_code == 409


def test_cancel_fulfilled_and_refund_unpaid_conflict(api, shop):
    fulfilled = _first(shop, "fulfilled")
    r = api.post(f"/preorders/orders/{fulfilled.id}/cancel")
    assert r.status_code == 409 and "payments/refund" in r.json()["errors"][0]
    placed = next(o for o in shop.orders if o.state == "placed" and o.paid_cents == 0)
    assert api.post(f"/preorders/orders/{placed.id}/payments/refund").status_code == 409
