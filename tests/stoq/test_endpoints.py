"""Every endpoint method sends the documented verb, path, query and body, with the key header."""

from __future__ import annotations

import datetime as dt

import pytest

from stoq import DEFAULT_BASE_URL, JobHandle, StoqClient, errors

from .conftest import API, API_KEY, FakeApi, reply

OFFER = {"id": "7f0c0a52-1111-4e9b-8d33-000000000001", "name": "Fall drop", "enabled": True}
ORDER = {"id": "5512345678901", "shopify_order_id": 5512345678901, "state": "released"}
JOB = {
    "job_id": "bulk_orders_release_a8c3f01b9d2e4471",
    "status_url": f"{API}/preorders/orders/jobs/bulk_orders_release_a8c3f01b9d2e4471",
    "order_count": 2,
}


def one_page(key: str, items: list[dict]) -> dict:
    meta = {"total_count": len(items), "page": 1, "per_page": 100, "total_pages": 1}
    return {key: items, "meta": meta}


def test_defaults_match_the_docs():
    assert DEFAULT_BASE_URL == "https://app.stoqapp.com/api/v2/external"


def test_every_request_carries_the_key_header_only(make_client):
    api = FakeApi().on("GET", "/help", reply(200, {"version": "v2", "actions": []}))
    client = make_client(api)
    assert client.help() == {"version": "v2", "actions": []}
    request = api.last
    assert request.headers["X-Auth-Token"] == API_KEY
    assert API_KEY not in str(request.url)
    assert "authorization" not in request.headers
    assert request.headers["accept"] == "application/json"


def test_help_with_prefix(make_client):
    api = FakeApi().on("GET", "/help", reply(200, {"actions": [{"name": "release"}]}))
    make_client(api).help(prefix="/preorders/orders")
    assert api.last.url.params["prefix"] == "/preorders/orders"


def test_list_offers_with_status(make_client):
    api = FakeApi().on("GET", "/preorders/offers", reply(200, one_page("offers", [OFFER])))
    offers = make_client(api).list_offers(status="enabled").all()
    assert offers == [OFFER]
    params = api.last.url.params
    assert (params["status"], params["page"], params["per_page"]) == ("enabled", "1", "100")


def test_get_offer_keeps_unknown_fields_and_string_id(make_client):
    raw = {**OFFER, "capabilities": {"widget": {}}, "brand_new_field": 1}
    api = FakeApi().on("GET", f"/preorders/offers/{OFFER['id']}", reply(200, raw))
    offer = make_client(api).get_offer(OFFER["id"])
    assert offer == raw
    assert api.last.method == "GET"


@pytest.mark.parametrize("action", ["enable", "disable"])
def test_enable_disable_offer(make_client, action):
    api = FakeApi().on("POST", f"/preorders/offers/{OFFER['id']}/{action}", reply(202, OFFER))
    client = make_client(api)
    result = getattr(client, f"{action}_offer")(OFFER["id"])
    assert result == OFFER
    assert api.last.method == "POST"
    assert api.last.content == b""


@pytest.mark.parametrize("action", ["add_variants", "remove_variants"])
def test_add_remove_variants(make_client, action):
    path = f"/preorders/offers/{OFFER['id']}/products/{action}"
    api = FakeApi().on("POST", path, reply(202, OFFER))
    getattr(make_client(api), action)(OFFER["id"], [43900910010503, "43900910043271"])
    assert api.body() == {"variant_ids": [43900910010503, 43900910043271]}
    assert api.last.headers["content-type"] == "application/json"


def test_offer_ids_cannot_reshape_the_path(make_client):
    api = FakeApi()
    with pytest.raises(errors.NotFound):
        make_client(api).get_offer("../orders/1")
    assert api.last.url.raw_path.endswith(b"/preorders/offers/..%2Forders%2F1")


def test_list_orders_sends_every_documented_filter(make_client):
    api = FakeApi().on("GET", "/preorders/orders", reply(200, one_page("orders", [ORDER])))
    walk = make_client(api).list_orders(
        state="released",
        offer_id=OFFER["id"],
        variant_id=43900910010503,
        customer_id=7012345678901,
        from_=dt.datetime(2025, 7, 1, 2, 0, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        to=dt.date(2025, 7, 31),
        per_page=50,
    )
    assert walk.all() == [{**ORDER, "id": 5512345678901}]
    params = dict(api.last.url.params)
    assert params == {
        "state": "released",
        "offer_id": OFFER["id"],
        "variant_id": "43900910010503",
        "customer_id": "7012345678901",
        "from": "2025-07-01T00:00:00Z",
        "to": "2025-07-31",
        "page": "1",
        "per_page": "50",
    }


def test_list_orders_passes_strings_through(make_client):
    api = FakeApi().on("GET", "/preorders/orders", reply(200, one_page("orders", [])))
    make_client(api).list_orders(from_="2025-07-01T00:00:00Z").all()
    assert api.last.url.params["from"] == "2025-07-01T00:00:00Z"
    assert "to" not in api.last.url.params


def test_get_order_coerces_numeric_string_ids(make_client):
    api = FakeApi().on("GET", "/preorders/orders/5512345678901", reply(200, ORDER))
    order = make_client(api).get_order("5512345678901")
    assert order["id"] == 5512345678901
    assert isinstance(order["id"], int)


def test_get_order_rejects_non_numeric_id(make_client):
    with pytest.raises(ValueError, match="order id"):
        make_client(FakeApi()).get_order("abc")


def test_release_order_sends_no_force_unless_asked(make_client):
    api = FakeApi().on("POST", "/preorders/orders/5512345678901/release", reply(202, ORDER))
    client = make_client(api)
    client.release_order(5512345678901)
    assert api.last.content == b""
    client.release_order(5512345678901, force=False)
    assert api.last.content == b""
    client.release_order(5512345678901, force=True)
    assert api.body() == {"force": True}


def test_charge_balance(make_client):
    path = "/preorders/orders/5512345678901/payments/charge_balance"
    api = FakeApi().on("POST", path, reply(202, {**ORDER, "state": "balance_collected"}))
    order = make_client(api).charge_balance(5512345678901)
    assert order["state"] == "balance_collected"
    assert api.last.method == "POST"


def test_bulk_release_returns_a_job_handle(make_client):
    api = FakeApi().on("POST", "/preorders/orders/bulk_release", reply(202, JOB))
    handle = make_client(api).bulk_release([1, "2"])
    assert api.body() == {"order_ids": [1, 2], "force": False}
    assert handle == JobHandle(JOB["job_id"], JOB["status_url"], 2)
    assert handle.raw == JOB


def test_bulk_variant_action(make_client):
    job = {"job_id": "bulk_abc", "status_url": f"{API}/jobs/bulk_abc", "variant_count": 3}
    path = "/preorders/product_variants/bulk_recalculate_preorder_counts"
    api = FakeApi().on("POST", path, reply(202, job))
    client = make_client(api)
    handle = client.bulk_variant_action("bulk_recalculate_preorder_counts", [1, 2, 3])
    assert handle.item_count == 3
    assert api.body() == {"variant_ids": [1, 2, 3]}
    client.bulk_variant_action("bulk_recalculate_preorder_counts")
    assert api.last.content == b""


def test_list_product_variants_with_filters(make_client):
    variant = {"shopify_variant_id": "43900910010503", "offers": []}
    body = one_page("product_variants", [variant])
    api = FakeApi().on("GET", "/preorders/product_variants", reply(200, body))
    records = make_client(api).list_product_variants(
        offer_id=OFFER["id"], product_id=8012345678901, variant_ids=[1, 2]
    )
    assert records.all() == [{"shopify_variant_id": 43900910010503, "offers": []}]
    params = api.last.url.params
    assert (params["offer_id"], params["product_id"]) == (OFFER["id"], "8012345678901")
    # Was "1,2" comma-joined: arrays go out as `variant_ids[]=1&variant_ids[]=2` (SPEC §1.7).
    assert params.get_list("variant_ids[]") == ["1", "2"] and "variant_ids" not in params


def test_get_product_variant(make_client):
    path = "/preorders/product_variants/43900910010503"
    api = FakeApi().on("GET", path, reply(200, {"shopify_variant_id": 43900910010503}))
    assert make_client(api).get_product_variant(43900910010503)["shopify_variant_id"] == (
        43900910010503
    )


def test_list_reports(make_client):
    catalog = {"reports": [{"name": "revenue", "url": f"{API}/preorders/reports/revenue"}]}
    api = FakeApi().on("GET", "/preorders/reports", reply(200, catalog))
    assert make_client(api).list_reports() == catalog["reports"]


def test_get_report_params(make_client):
    api = FakeApi().on("GET", "/preorders/reports/revenue", reply(200, {"totals": {}}))
    make_client(api).get_report(
        "revenue",
        from_=dt.date(2025, 7, 1),
        to="2025-07-31",
        granularity="week",
        offer_ids=["a", "b"],
        include_deposits=False,
    )
    params = api.last.url.params
    assert params["from"] == "2025-07-01"
    assert params["to"] == "2025-07-31"
    assert params["granularity"] == "week"
    assert params.get_list("offer_ids[]") == ["a", "b"]
    assert params["include_deposits"] == "false"


def test_export_report_returns_a_job_handle(make_client):
    job = {"job_id": "exp_a8c3f01", "status_url": f"{API}/preorders/reports/jobs/exp_a8c3f01"}
    api = FakeApi().on("POST", "/preorders/reports/summary/export", reply(202, job))
    handle = make_client(api).start_export("summary", from_=dt.date(2025, 7, 1))
    assert handle.job_id == "exp_a8c3f01"
    assert handle.item_count is None
    assert api.body() == {"from": "2025-07-01"}


def test_context_manager_closes(clock):
    import httpx

    with StoqClient(API_KEY, transport=httpx.MockTransport(FakeApi())) as client:
        assert repr(client) == "StoqClient(base_url='https://app.stoqapp.com/api/v2/external')"
    with pytest.raises(RuntimeError):
        client.help()
