"""Offers: listing, reads, create/patch, lifecycle 409s, variants and the widget capability."""

from __future__ import annotations

import pytest


def _by_status(shop, status):
    return next(o for o in shop.offers.values() if o.status == status)


def test_list_is_newest_first_includes_discarded_and_filters(api, shop):
    body = api.get("/preorders/offers").json()
    created = [o["created_at"] for o in body["offers"]]
    assert created == sorted(created, reverse=True)
    assert body["meta"] == {"total_count": 12, "page": 1, "per_page": 25, "total_pages": 1}
    statuses = {o["status"] for o in body["offers"]}
    assert statuses == {"enabled", "disabled", "scheduled", "discarded"}
    for status in statuses:
        only = api.get("/preorders/offers", params={"status": status}).json()["offers"]
        assert only and {o["status"] for o in only} == {status}
    page = api.get("/preorders/offers", params={"per_page": 5, "page": 3}).json()
    assert len(page["offers"]) == 2 and page["meta"]["total_pages"] == 3


def test_read_has_capabilities_and_v1_fields(api, shop):
    offer = _by_status(shop, "enabled")
    body = api.get(f"/preorders/offers/{offer.id}").json()
    assert body["id"] == offer.id and body["status"] == "enabled" and body["enabled"] is True
    assert body["billing_checkout_charge_type"] == "percentage"
    assert body["shopify_variant_ids"] == offer.variant_ids
    assert set(body["capabilities"]) >= {"widget", "products", "remaining_balance"}
    assert body["created_at"].endswith("Z")


def test_create_and_patch_answer_202(api):
    r = api.post("/preorders/offers", json={})
    assert r.status_code == 202
    created = r.json()
    assert created["name"] == "Preorder" and created["internal_name"] == "Preorder"
    assert created["status"] == "disabled"
    r = api.patch(f"/preorders/offers/{created['id']}", json={"internal_name": "Ops name"})
    assert r.status_code == 202
    assert r.json()["internal_name"] == "Ops name" and r.json()["name"] == "Preorder"
    first = api.get("/preorders/offers", params={"per_page": 1}).json()["offers"][0]
    assert first["id"] == created["id"]  # newest first


def test_lifecycle_transitions_and_conflicts(api, shop):
    offer = _by_status(shop, "disabled")
    base = f"/preorders/offers/{offer.id}"
    assert api.post(f"{base}/enable").json()["status"] == "enabled"
    assert api.post(f"{base}/enable").status_code == 202  # no-op
    assert api.post(f"{base}/disable").json()["status"] == "disabled"
    r = api.post(f"{base}/schedule", json={"starts_at": "2026-04-01T00:00:00Z"})
    assert r.status_code == 202 and r.json()["status"] == "scheduled"
    assert r.json()["scheduled_start_at"] == "2026-04-01T00:00:00Z"
    assert api.post(f"{base}/schedule", json={}).status_code == 422
    assert api.post(f"{base}/unschedule").json()["status"] == "disabled"
    r = api.post(f"{base}/unschedule")
    assert r.status_code == 409 and "not scheduled" in r.json()["errors"][0]
    assert api.post(f"{base}/discard").json()["status"] == "discarded"
    r = api.post(f"{base}/enable")
    assert r.status_code == 409
    assert "Restore it first" in r.json()["errors"][0] and "/restore" in r.json()["errors"][0]
    assert api.post(f"{base}/discard").status_code == 409
    assert api.get(base).json()["discarded_at"] is not None  # readable while discarded
    assert api.post(f"{base}/restore").json()["status"] == "disabled"
    assert api.post(f"{base}/restore").status_code == 409


def test_add_and_remove_variants(api, shop):
    offer = _by_status(shop, "enabled")
    spare = next(v.id for v in shop.variants.values() if not v.offer_ids)
    base = f"/preorders/offers/{offer.id}/products"
    r = api.post(f"{base}/add_variants", json={"variant_ids": [spare, spare]})
    assert r.status_code == 202 and r.json()["shopify_variant_ids"].count(spare) == 1
    assert offer.id in api.get(f"/preorders/product_variants/{spare}").json()["offer_ids"]
    r = api.post(f"{base}/remove_variants", json={"variant_ids": [spare]})
    assert spare not in r.json()["shopify_variant_ids"]
    r = api.post(f"{base}/add_variants", json={"variant_ids": [spare, 1, 2]})
    assert r.status_code == 422 and r.json() == {"errors": ["Unknown variant ids: 1, 2"]}
    assert spare not in api.get(f"/preorders/offers/{offer.id}").json()["shopify_variant_ids"]
    assert api.post(f"{base}/add_variants", json={"variant_ids": []}).status_code == 422


def test_widget_read_patch_and_button_text(api, shop):
    offer = _by_status(shop, "enabled")
    base = f"/preorders/offers/{offer.id}/widget"
    assert api.get(base).json()["badge"]["enabled"] is True
    r = api.patch(base, json={"badge": {"enabled": False}})
    assert r.status_code == 202
    assert r.json()["badge"] == {**r.json()["badge"], "enabled": False, "text": "Preorder"}
    r = api.post(f"{base}/set_button_text", json={"text": "Reserve yours"})
    assert r.status_code == 202 and r.json()["button_text"] == "Reserve yours"
    read = api.get(f"/preorders/offers/{offer.id}").json()
    assert read["capabilities"]["widget"]["button_text"] == "Reserve yours"
    assert api.patch(base, json={"badge": {"colour": "red"}}).status_code == 422


@pytest.mark.parametrize("verb", ["enable", "disable", "schedule", "unschedule", "discard"])
def test_discarded_offer_refuses_lifecycle(api, shop, verb):
    offer = _by_status(shop, "discarded")
    body = {"starts_at": "2026-05-01"} if verb == "schedule" else None
    r = api.post(f"/preorders/offers/{offer.id}/{verb}", json=body)
    assert r.status_code == 409 and r.json()["errors"]
