"""Auth, routing errors, validation and the help manifest generated from the registry."""

from __future__ import annotations

from sandbox.registry import REGISTRY


def test_missing_or_wrong_key_is_401_everywhere_but_public_docs(shop, make_client):
    anon, wrong = make_client(shop, key=None), make_client(shop, key="stoq_api_key_" + "x" * 32)
    for client in (anon, wrong):
        for path in ("/help", "/preorders/orders", "/preorders/orders/help", "/nope"):
            r = client.get(path)
            assert r.status_code == 401
            assert r.json() == {"errors": ["Unauthorized"]}
            assert r.headers["X-RateLimit-Limit"]
        assert client.get("/preorders/skill.md").status_code == 200
        assert client.get("/llms.txt").status_code == 200


def test_public_docs_list_every_preorder_action(shop, make_client):
    text = make_client(shop, key=None).get("/preorders/skill.md").text
    for action in REGISTRY.actions:
        if action.path.startswith("/preorders"):
            assert f"`{action.path}`" in text
    llms = make_client(shop, key=None).get("/llms.txt")
    assert "skill.md" in llms.text and llms.headers["content-type"].startswith("text/plain")


def test_unknown_verb_and_path_is_404_with_documented_body(api):
    r = api.post("/preorders/offers/nope")
    assert r.status_code == 404
    assert r.json() == {"errors": ["No v2 action registered for POST /preorders/offers/nope"]}
    assert api.delete("/preorders/orders").json() == {
        "errors": ["No v2 action registered for DELETE /preorders/orders"]
    }


def test_unknown_ids_are_404_per_resource(api):
    assert api.get("/preorders/orders/1").json() == {"errors": ["Order not found"]}
    assert api.get("/preorders/orders/abc").status_code == 404
    assert api.get("/preorders/offers/no-such-uuid").json() == {"errors": ["Offer not found"]}
    assert api.get("/preorders/product_variants/9").json() == {"errors": ["Variant not found"]}
    assert api.get("/preorders/reports/nope").json() == {"errors": ["Report not found"]}
    assert api.get("/preorders/orders/jobs/bulk_orders_release_00").status_code == 404


def test_help_manifest_is_the_route_table(api):
    body = api.get("/help").json()
    assert body["version"] == "v2" and body["base_path"] == "/api/v2/external"
    assert [(a["method"], a["path"]) for a in body["actions"]] == [
        (a.method, a.path) for a in REGISTRY.actions
    ]
    for entry, action in zip(body["actions"], REGISTRY.actions, strict=True):
        assert entry["request_schema"] == action.request_schema
        assert ("path_params" in entry) == (":" in action.path)
    sbt = next(a for a in body["actions"] if a["name"] == "set_button_text")
    assert sbt["path"] == "/preorders/offers/:id/widget/set_button_text"
    assert sbt["path_params"] == ["id"]
    assert sbt["request_schema"] == {
        "type": "object",
        "properties": {"text": {"not": {"type": "null"}}},
        "required": ["text"],
    }


def test_every_manifest_route_dispatches(api, shop):
    """No registered action answers 'No v2 action registered' (dispatch and help agree)."""
    order_id = shop.orders.newest().id
    offer_id = next(iter(shop.offers))
    variant_id = next(iter(shop.variants))
    values = {"id": None, "variant_id": str(variant_id), "job_id": "x", "name": "summary"}
    for action in REGISTRY.actions:
        path = action.path
        for param in action.path_params:
            value = values[param] or (offer_id if "/offers" in path else str(order_id))
            path = path.replace(f":{param}", value)
        r = api.request(action.method, path, json={} if action.method != "GET" else None)
        assert "No v2 action registered" not in r.text, (action.name, r.text)


def test_help_prefix_and_suffix_forms_agree(api):
    by_query = api.get("/help", params={"prefix": "/preorders/orders"}).json()
    by_suffix = api.get("/preorders/orders/help").json()
    assert by_query == by_suffix
    paths = [a["path"] for a in by_suffix["actions"]]
    assert paths and all(p.startswith("/preorders/orders") for p in paths)
    reports = api.get("/preorders/reports/help").json()
    assert len(reports["reports"]) == 9 and "query_schema" in reports["reports"][0]


def test_validation_uses_the_published_schema(api, shop):
    offer_id = next(iter(shop.offers))
    r = api.post(f"/preorders/offers/{offer_id}/widget/set_button_text", json={"text": None})
    assert r.status_code == 422 and r.json() == {"errors": ["text must not be null"]}
    r = api.post(f"/preorders/offers/{offer_id}/widget/set_button_text", json={})
    assert r.json() == {"errors": ["text is required"]}
    r = api.post("/preorders/orders/bulk_release", json={"order_ids": ["a"], "force": "yes"})
    assert r.status_code == 422
    assert set(r.json()["errors"]) == {"order_ids[0] must be an integer", "force must be a boolean"}
    r = api.get("/preorders/orders", params={"state": "lost"})
    assert r.status_code == 422 and "state must be one of: placed" in r.json()["errors"][0]
    assert api.get("/preorders/orders", params={"page": 0}).json() == {
        "errors": ["page must be >= 1"]
    }
    assert api.get("/preorders/orders", params={"page": "x"}).status_code == 422
    r = api.patch(f"/preorders/offers/{offer_id}", json={"status": "enabled"})
    assert r.json() == {"errors": ["status is not a known field"]}


def test_unparseable_json_is_400(api):
    r = api.post("/preorders/orders/bulk_cancel", content=b"{not json")
    assert r.status_code == 400 and r.json()["errors"][0].startswith("Malformed JSON")
    r = api.post("/preorders/orders/bulk_cancel", json=[1, 2])
    assert r.status_code == 422 and r.json() == {"errors": ["body must be an object"]}
