"""Manifest edits change what the sandbox lists under /help and what it really routes."""

from __future__ import annotations

import httpx
import pytest

from sandbox import SandboxConfig, Shop, mock_transport
from sandbox.state import SavedShop
from stoq.contract import compare

ROOT = "http://sandbox.test/_sandbox"
RELEASE = {"action": "release", "name": "release_order", "path": "/preorders/orders/:id/free"}


def manifest(api: httpx.Client) -> dict:
    answer = api.get("/help", params={"prefix": "/preorders"})
    assert answer.status_code == 200
    return answer.json()


def listed(api: httpx.Client) -> dict[str, dict]:
    return {a["name"]: a for a in manifest(api)["actions"]}


def releasable(shop: Shop) -> int:
    return next(o["id"] for o in shop.truth_orders() if o["state"] == "balance_collected")


def offer_and_variant(shop: Shop) -> tuple[str, int]:
    offer = shop.truth_offers()[0]["id"]
    return offer, next(iter(shop.variants))


def test_the_default_manifest_matches_the_client(api):
    assert compare(manifest(api)) == []


def test_a_removed_action_is_unlisted_and_answers_404(shop, api):
    shop.edit_manifest([{"action": "release", "remove": True}])
    assert "release" not in listed(api)
    path = f"/preorders/orders/{releasable(shop)}/release"
    answer = api.post(path, json={})
    assert answer.status_code == 404
    assert answer.json() == {"errors": [f"No v2 action registered for POST {path}"]}
    assert [d.kind for d in compare(manifest(api))] == ["missing"]


def test_a_renamed_action_moves_its_path(shop, api):
    shop.edit_manifest([{**RELEASE, "add_aliases": ["release"]}])
    entry = listed(api)["release_order"]
    assert entry["path"] == "/preorders/orders/:id/free" and "release" in entry["aliases"]
    order = releasable(shop)
    assert api.post(f"/preorders/orders/{order}/release", json={}).status_code == 404
    moved = api.post(f"/preorders/orders/{order}/free", json={})
    assert moved.status_code == 202 and moved.json()["state"] == "released"
    (drift,) = compare(manifest(api))
    assert (drift.kind, drift.breaking) == ("moved", True)


def test_a_renamed_field_is_required_under_its_new_name_only(shop, api):
    shop.edit_manifest([{"action": "add_variants", "rename_fields": {"variant_ids": "ids"}}])
    schema = listed(api)["add_variants"]["request_schema"]
    assert schema["required"] == ["ids"] and "variant_ids" not in schema["properties"]
    offer, variant = offer_and_variant(shop)
    path = f"/preorders/offers/{offer}/products/add_variants"
    assert api.post(path, json={"variant_ids": [variant]}).status_code == 422
    added = api.post(path, json={"ids": [variant]})
    assert added.status_code == 202, added.text
    assert variant in shop.offers[offer].variant_ids
    kinds = {d.kind for d in compare(manifest(api)) if d.breaking}
    assert kinds == {"new required field", "field not accepted"}


def test_an_added_alias_is_only_listed(shop, api):
    shop.edit_manifest([{"action": "release", "add_aliases": ["free the order"]}])
    assert listed(api)["release"]["aliases"][-1] == "free the order"
    assert api.post(f"/preorders/orders/{releasable(shop)}/release", json={}).status_code == 202
    assert compare(manifest(api)) == []


def test_the_control_endpoint_sets_shows_and_clears_edits(shop, api):
    with httpx.Client(transport=mock_transport(shop)) as control:
        edits = [{"action": "release", "remove": True}]
        done = control.post(f"{ROOT}/manifest", json={"edits": edits})
        assert done.status_code == 200 and done.json()["edits"] == edits
        assert control.get(f"{ROOT}/manifest").json() == {"edits": edits}
        assert "release" not in listed(api)
        assert control.post(f"{ROOT}/manifest", json={"edits": []}).status_code == 200
    assert "release" in listed(api) and compare(manifest(api)) == []


@pytest.mark.parametrize(
    ("edit", "says"),
    [
        ({"action": "nope", "remove": True}, "no action named 'nope'"),
        ({"action": "help", "remove": True}, "cannot be edited"),
        ({"action": "release", "colour": "red"}, "unknown manifest edit keys: colour"),
        ({"action": "release", "path": "no-slash"}, "must start with '/'"),
        ({"action": "add_variants", "rename_fields": {"x": "y"}}, "no such fields to rename: x"),
    ],
)
def test_an_edit_it_cannot_apply_is_a_422_and_changes_nothing(shop, api, edit, says):
    before = manifest(api)
    with httpx.Client(transport=mock_transport(shop)) as control:
        answer = control.post(f"{ROOT}/manifest", json={"edits": [edit]})
    assert answer.status_code == 422 and says in answer.json()["errors"][0]
    assert manifest(api) == before and shop.config.manifest_edits == ()


def test_edits_in_the_config_apply_from_the_start_and_survive_a_saved_shop(tmp_path):
    config = SandboxConfig(orders=5, manifest_edits=({"action": "release", "remove": True},))
    saved = SavedShop.open(tmp_path / "shop.json", config)
    assert all(a.name != "release" for a in saved.registry.actions)
    again = SavedShop.open(tmp_path / "shop.json")
    assert again.config.manifest_edits == config.manifest_edits
    assert all(a.name != "release" for a in again.registry.actions)
