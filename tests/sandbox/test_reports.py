"""Reports: the catalog, each JSON read, validation, pagination and real CSV exports."""

from __future__ import annotations

import csv
import io

import httpx
import pytest

from sandbox import BASE_PATH, mock_transport
from sandbox.reports import REPORTS


def test_catalog_lists_nine_reports(api):
    reports = api.get("/preorders/reports").json()["reports"]
    names = [r["name"] for r in reports]
    assert len(names) == 9
    assert {"summary", "revenue", "by_date", "by_variant", "customers", "by_product"} <= set(names)
    assert reports[1]["url"] == "/api/v2/external/preorders/reports/revenue"


@pytest.mark.parametrize("name", [n for n in REPORTS if n != "by_variant"])
def test_every_report_reads_with_a_window(api, name):
    r = api.get(f"/preorders/reports/{name}", params={"from": "2026-01-01", "to": "2026-02-28"})
    assert r.status_code == 200
    body = r.json()
    assert body["report"] == name and body["window"] == {"from": "2026-01-01", "to": "2026-02-28"}
    assert body["totals"]["orders"] > 0 and body["currency"] == "USD"


def test_default_window_is_last_30_days(api):
    assert api.get("/preorders/reports/summary").json()["window"] == {
        "from": "2026-01-31",
        "to": "2026-03-01",
    }


def test_windows_are_inclusive_dates(api, shop):
    day = shop.truth_orders()[10]["created_at"][:10]
    body = api.get("/preorders/reports/by_state", params={"from": day, "to": day}).json()
    expected = sum(o["created_at"][:10] == day for o in shop.truth_orders())
    assert body["totals"]["orders"] == expected > 0


def test_by_variant_requires_offer_scope(api, shop):
    r = api.get("/preorders/reports/by_variant")
    assert r.status_code == 422
    assert r.json() == {"errors": ["by_variant requires offer_id or offer_ids[]"]}
    offer = next(iter(shop.offers.values()))
    r = api.get(
        "/preorders/reports/by_variant", params={"offer_ids[]": [offer.id], "from": "2025-09-01"}
    )
    assert r.status_code == 200
    assert {row["shopify_variant_id"] for row in r.json()["rows"]} <= set(offer.variant_ids)


def test_revenue_granularity_and_include_flags(api):
    body = api.get(
        "/preorders/reports/revenue", params={"granularity": "month", "from": "2025-10-01"}
    ).json()
    assert all(s["period"].endswith("-01") for s in body["series"])
    deposits = api.get(
        "/preorders/reports/revenue", params={"include_balances": "false", "from": "2025-10-01"}
    ).json()
    assert deposits["series"] != body["series"]
    r = api.get(
        "/preorders/reports/revenue",
        params={"include_balances": "false", "include_deposits": "false"},
    )
    assert r.status_code == 422
    by_date = api.get("/preorders/reports/by_date", params={"metrics": "orders,units"}).json()
    assert set(by_date["series"][0]) == {"period", "orders", "units"}


def test_customers_report_is_paginated(api):
    body = api.get("/preorders/reports/customers", params={"per_page": 5, "page": 2}).json()
    assert len(body["customers"]) == 5 and body["meta"]["page"] == 2
    assert body["meta"]["total_count"] == body["totals"]["customers"]


def test_export_job_ends_ready_with_a_real_csv(api, shop, clock):
    r = api.post("/preorders/reports/by_offer/export", json={"from": "2025-09-01"})
    assert r.status_code == 202
    handle = r.json()
    assert handle["job_id"].startswith("exp_") and "order_count" not in handle
    assert handle["status_url"] == f"{BASE_PATH}/preorders/reports/jobs/{handle['job_id']}"
    for _ in range(4):
        status = api.get(handle["status_url"].removeprefix(BASE_PATH)).json()
    assert status["status"] == "ready" and status["progress"] == 100
    url = status["download_url"]
    assert url.startswith("http://sandbox.test/_sandbox/downloads/") and "X-Amz-Signature=" in url
    assert status["expires_at"].endswith("Z")
    with httpx.Client(transport=mock_transport(shop)) as plain:
        got = plain.get(url)
        assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(got.text)))
        report = api.get("/preorders/reports/by_offer", params={"from": "2025-09-01"}).json()
        assert len(rows) == status["row_count"] == len(report["rows"])
        assert rows[0]["offer_id"] == report["rows"][0]["offer_id"]
        clock.advance(3600)
        assert plain.get(url).status_code == 403


def test_export_validates_like_the_read(api):
    assert api.post("/preorders/reports/by_variant/export", json={}).status_code == 422
    assert api.post("/preorders/reports/nope/export", json={}).status_code == 404
