"""Product variants: list filters, read, offers of a variant, recount and bulk metafield jobs."""

from __future__ import annotations

import re

from sandbox import BASE_PATH


def test_list_only_attached_variants_with_filters(api, shop):
    body = api.get("/preorders/product_variants", params={"per_page": 100}).json()
    attached = sorted(v.id for v in shop.variants.values() if v.offer_ids)
    assert [v["shopify_variant_id"] for v in body["product_variants"]] == attached
    assert body["meta"]["total_count"] == len(attached)
    offer = next(iter(shop.offers.values()))
    got = api.get("/preorders/product_variants", params={"offer_id": offer.id}).json()
    assert {v["shopify_variant_id"] for v in got["product_variants"]} == set(offer.variant_ids)
    two = attached[:2]
    for params in ({"variant_ids[]": two}, {"variant_ids": ",".join(map(str, two))}):
        got = api.get("/preorders/product_variants", params=params).json()["product_variants"]
        assert [v["shopify_variant_id"] for v in got] == two
    product = shop.variants[attached[0]].product_id
    got = api.get("/preorders/product_variants", params={"product_id": product}).json()
    assert {v["shopify_product_id"] for v in got["product_variants"]} == {product}


def test_read_offers_and_recalculate(api, shop):
    vid = shop.orders.newest().line_items[0].variant_id
    body = api.get(f"/preorders/product_variants/{vid}").json()
    assert body["shopify_variant_id"] == vid and body["metafields"]["in_sync"] is True
    offers = api.get(f"/preorders/product_variants/{vid}/offers").json()["offers"]
    assert [o["id"] for o in offers] == shop.variants[vid].offer_ids
    r = api.post(f"/preorders/product_variants/{vid}/recalculate_preorder_count")
    assert r.status_code == 202
    active = ("placed", "awaiting_balance", "balance_collected", "released")
    expected = sum(
        li["quantity"]
        for o in shop.truth_orders()
        if o["state"] in active
        for li in o["line_items"]
        if li["shopify_variant_id"] == vid
    )
    assert r.json()["preorder_count"] == expected > 0
    assert r.json()["metafields"]["preorder_count"] == expected


def test_bulk_variant_jobs(api, shop):
    attached = sum(1 for v in shop.variants.values() if v.offer_ids)
    for name in (
        "bulk_recalculate_preorder_counts",
        "bulk_reset_metafields",
        "bulk_sync_metafields",
    ):
        r = api.post(f"/preorders/product_variants/{name}")
        assert r.status_code == 202
        h = r.json()
        assert re.fullmatch(rf"{name}_[0-9a-f]{{16}}", h["job_id"])
        assert h["variant_count"] == attached
        assert h["status_url"] == f"{BASE_PATH}/preorders/product_variants/jobs/{h['job_id']}"
        for _ in range(4):
            last = api.get(h["status_url"].removeprefix(BASE_PATH)).json()
        assert last["status"] == "completed" and last["processed"] == attached
    vid = next(v.id for v in shop.variants.values() if v.offer_ids)
    h = api.post("/preorders/product_variants/bulk_reset_metafields", json={"variant_ids": [vid]})
    assert h.json()["variant_count"] == 1
