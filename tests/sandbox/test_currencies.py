"""A shop can sell in several currencies; its reports never add one currency to another."""

from __future__ import annotations

from collections import Counter

import pytest

from sandbox import SandboxConfig

WINDOW = {"from": "2025-09-01", "to": "2026-03-01"}


def test_one_currency_by_default(shop):
    assert SandboxConfig().currencies == ("USD",)
    assert {o["currency"] for o in shop.truth_orders()} == {"USD"}


def test_several_currencies_change_nothing_but_the_currency(make_shop):
    one = make_shop().truth_orders()
    two = make_shop(currencies=("USD", "EUR")).truth_orders()
    counts = Counter(o["currency"] for o in two)
    assert set(counts) == {"USD", "EUR"} and min(counts.values()) > len(two) // 4
    strip = [{k: v for k, v in o.items() if k != "currency"} for o in two]
    assert strip == [{k: v for k, v in o.items() if k != "currency"} for o in one]
    by_customer: dict[int, set[str]] = {}
    for order in two:
        by_customer.setdefault(order["customer"]["id"], set()).add(order["currency"])
    assert all(len(c) == 1 for c in by_customer.values())  # a customer buys in one currency


def test_new_orders_follow_the_customer_currency(make_shop):
    shop = make_shop(currencies=("USD", "EUR"))
    known = {o["customer"]["id"]: o["currency"] for o in shop.truth_orders()}
    created = set(shop.mutate(new_orders=20)["new_orders"])
    for order in shop.truth_orders():
        if order["id"] in created and order["customer"]["id"] in known:
            assert order["currency"] == known[order["customer"]["id"]]


def test_reports_cover_one_currency_each(make_shop, make_client):
    one = make_client(make_shop()).get("/preorders/reports/summary", params=WINDOW).json()
    api = make_client(make_shop(currencies=("USD", "EUR")))
    usd = api.get("/preorders/reports/summary", params=WINDOW).json()
    eur = api.get("/preorders/reports/summary", params={**WINDOW, "currency": "EUR"}).json()
    assert (usd["currency"], eur["currency"]) == ("USD", "EUR")  # the first is the default
    assert 0 < usd["totals"]["orders"] < one["totals"]["orders"]
    assert usd["totals"]["orders"] + eur["totals"]["orders"] == one["totals"]["orders"]
    revenue = float(usd["totals"]["revenue"]) + float(eur["totals"]["revenue"])
    assert revenue == pytest.approx(float(one["totals"]["revenue"]))


def test_a_shop_needs_a_currency():
    with pytest.raises(ValueError, match="currencies"):
        SandboxConfig(currencies=())
