"""stoq.contract: CALLS match what the client really sends, and compare() finds each drift."""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx
import pytest

import sandbox
from stoq import StoqClient, errors
from stoq.contract import CALLS, Call, compare

BASE_URL = "http://sandbox.test" + sandbox.BASE_PATH


class Recording(httpx.BaseTransport):
    """Forwards to the sandbox; keeps (method, path under the base, body keys) per request."""

    def __init__(self, shop: sandbox.Shop) -> None:
        self.inner = sandbox.mock_transport(shop)
        self.seen: list[tuple[str, str, frozenset[str]]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        keys = frozenset(json.loads(body)) if body else frozenset()
        self.seen.append((request.method, request.url.path[len(sandbox.BASE_PATH) :], keys))
        return self.inner.handle_request(request)


def _matches(call: Call, method: str, path: str) -> bool:
    mine, theirs = call.path.strip("/").split("/"), path.strip("/").split("/")
    return (
        call.method == method
        and len(mine) == len(theirs)
        and all(a.startswith(":") or a == b for a, b in zip(mine, theirs, strict=True))
    )


def test_calls_are_exactly_what_the_client_sends():
    """Every request of every client method is a declared call with declared body fields."""
    clock = sandbox.FakeClock()
    shop = sandbox.Shop(sandbox.SandboxConfig(orders=60, job_steps=1), clock=clock)
    recording = Recording(shop)
    with StoqClient(
        sandbox.DEFAULT_API_KEY, BASE_URL, transport=recording, sleep=clock.sleep,
        clock=clock.monotonic, wall_clock=clock.time,
    ) as client:  # fmt: skip
        offer = client.list_offers(status="enabled").all()[0]
        client.get_offer(offer["id"])
        client.disable_offer(offer["id"])
        client.enable_offer(offer["id"])
        variant = client.list_product_variants(offer_id=offer["id"]).all()[0]
        client.get_product_variant(variant["shopify_variant_id"])
        client.remove_variants(offer["id"], [variant["shopify_variant_id"]])
        client.add_variants(offer["id"], [variant["shopify_variant_id"]])
        orders = client.list_orders().all()
        client.get_order(orders[0]["shopify_order_id"])
        awaiting = [o for o in orders if o["state"] == "awaiting_balance"]
        client.charge_balance(awaiting[0]["shopify_order_id"])
        client.release_order(awaiting[1]["shopify_order_id"], force=True)
        client.bulk_release([awaiting[2]["shopify_order_id"]], force=False)
        for job in ("bulk_recalculate_preorder_counts", "bulk_reset_metafields",
                    "bulk_sync_metafields"):  # fmt: skip
            client.bulk_variant_action(job, [variant["shopify_variant_id"]])
        client.list_reports()
        client.get_report("summary", from_="2020-01-01")
        client.start_export("summary")
    used: set[Call] = set()
    for method, path, keys in recording.seen:
        call = next((c for c in CALLS if _matches(c, method, path)), None)
        assert call is not None, f"{method} {path} is not declared in stoq.contract.CALLS"
        assert keys <= call.sends or call.name == "export_report", (call, keys)
        used.add(call)
    assert used == set(CALLS)  # no declared call that the client never makes


@pytest.fixture
def manifest() -> dict[str, Any]:
    import sandbox.routes  # noqa: F401  (registers every action)
    from sandbox.registry import REGISTRY

    return copy.deepcopy(REGISTRY.manifest("/preorders"))  # its schemas are the registry's own


def _action(manifest: dict[str, Any], name: str) -> dict[str, Any]:
    return next(a for a in manifest["actions"] if a["name"] == name)


def test_the_sandbox_manifest_matches_the_client(manifest):
    assert compare(manifest) == []


def test_a_missing_action_is_breaking(manifest):
    manifest["actions"].remove(_action(manifest, "charge_balance"))
    [drift] = compare(manifest)
    assert (drift.call.name, drift.kind, drift.breaking) == ("charge_balance", "missing", True)


def test_a_moved_action_is_found_by_alias(manifest):
    release = _action(manifest, "release")
    release.update(name="release_holds", path="/preorders/orders/:order_id/holds/release")
    release["aliases"] = ["release", "release order"]
    [drift] = compare(manifest)
    assert drift.kind == "moved" and drift.breaking
    assert "POST /preorders/orders/:order_id/holds/release" in drift.detail
    assert "'release_holds'" in drift.detail


def test_a_renamed_action_on_the_same_route_is_no_drift(manifest):
    _action(manifest, "release")["name"] = "release_fulfillment_holds"
    assert compare(manifest) == []


def test_a_renamed_body_field_is_breaking(manifest):
    schema = _action(manifest, "bulk_release")["request_schema"]
    schema["properties"]["ids"] = schema["properties"].pop("order_ids")
    schema["required"] = ["ids"]
    kinds = {(d.kind, d.breaking) for d in compare(manifest)}
    assert kinds == {
        ("new required field", True),
        ("required dropped", False),
        ("field not accepted", True),
    }


def test_a_new_required_field_the_client_sends_is_not_breaking(manifest):
    _action(manifest, "bulk_release")["request_schema"]["required"] = ["order_ids", "force"]
    [drift] = compare(manifest)
    assert (drift.kind, drift.breaking) == ("new required field", False)
    assert drift.as_dict()["action"] == "bulk_release"


def test_placeholder_names_do_not_matter(manifest):
    _action(manifest, "get_order")["path"] = "/preorders/orders/:shopify_order_id"
    assert compare(manifest) == []


def test_a_manifest_without_actions_is_malformed():
    with pytest.raises(errors.MalformedResponse):
        compare({"version": "v2"})
    assert compare({"actions": [{"name": "x"}]}, calls=()) == []
