"""Records the warehouse cannot hold become `_rejects` rows with a reason; the rest loads."""

from __future__ import annotations

import json
from typing import Any

import duckdb
import pytest

from tests.warehouse.factory import offer, order
from warehouse import checks
from warehouse.frames import offer_frames, order_frames
from warehouse.loads import OffersLoad, OrdersLoad

HUGE = 2**70  # 1180591620717411303424
JUST_PAST = 2**63 + 5


@pytest.mark.parametrize(
    ("record", "key", "reason"),
    [
        (order(HUGE), str(HUGE), "shopify_order_id is beyond BIGINT"),
        (order(JUST_PAST), str(JUST_PAST), "shopify_order_id is beyond BIGINT"),
        (order(-5), "-5", "shopify_order_id is not a positive id"),
        (order(0), "0", "shopify_order_id is not a positive id"),
        (order(1, shopify_order_id=str(HUGE)), str(HUGE), "shopify_order_id is beyond BIGINT"),
        (order(2, customer={"id": 2**64}), "2", "customer.id is beyond BIGINT"),
        (order(3, customer={"id": -1}), "3", "customer.id is not a positive id"),
        (order(4, customer={"name": "Jo\ud800"}), "4", "customer.name is not valid Unicode"),
        (order(5, tags=["a", "\udfff"]), "5", "tags[1] is not valid Unicode"),
        (order(6, total="9999999999999999.995"), "6", "total_price is beyond DECIMAL(18, 2)"),
        (order(7, total="12345678901234567"), "7", "total_price is beyond DECIMAL(18, 2)"),
        (order(7, total="9" * 29 + ".99"), "7", "total_price is beyond DECIMAL(18, 2)"),
        (order(8, line_items=[{"quantity": 2**40}]), "8", "line_items[0].quantity is not a 32"),
        (
            order(9, line_items=[{"shopify_variant_id": HUGE}]),
            "9",
            "line_items[0].shopify_variant_id is beyond",
        ),
        (
            order(10, line_items=[{"shopify_product_id": -2}]),
            "10",
            "line_items[0].shopify_product_id is not a",
        ),
        (order(11, line_items=[{"title": "x\ud83d"}]), "11", "line_items[0].title is not valid"),
        (order(12, **{"odd\udc00": 1}), "12", "odd\\udc00 (a key) is not valid Unicode"),
        # Other scripts' digits: Python's \d and isdigit take them, DuckDB's casts do not.
        (order(13, total="\u0661\u0660\u0660.\u0660\u0660"), "13", "total_price is not a decimal"),
        (order(14, customer={"id": "\u0667"}), "14", "customer.id is not an integer id"),
        (order(15, shopify_order_id="\u00b2"), "\u00b2", "shopify_order_id is not an integer id"),
    ],
)
def test_a_record_the_warehouse_cannot_hold_is_rejected_naming_the_field(record, key, reason):
    frames = order_frames([order(100), record, order(101)])
    (reject,) = frames.rejects
    assert reject.record_key == key
    assert reject.reason.startswith(reason)
    assert frames.orders["id"].tolist() == [100, 101]
    assert set(frames.line_items["order_id"]) == {100, 101}


def test_money_at_the_edge_of_its_column_is_kept():
    payments = {"deposit": "-9999999999999999", "balance": "0.004"}
    frames = order_frames([order(1, total="9999999999999999.994", payments=payments)])
    assert frames.rejects == []
    assert frames.orders.at[0, "total_price"] == "9999999999999999.994"


def test_a_valid_surrogate_pair_is_not_a_lone_surrogate():
    frames = order_frames([order(1, customer={"id": 9, "name": "Jo \U0001f600"})])
    assert frames.rejects == []
    assert frames.orders.at[0, "customer_name"] == "Jo \U0001f600"


def test_offers_with_a_lone_surrogate_or_a_bad_variant_id_are_rejected():
    bad_title = offer("0b7f6a52-0000-4b7e-9a51-5f3f1e0c0a09", name="Drop \ud800")
    bad_variant = offer("0b7f6a52-0000-4b7e-9a51-5f3f1e0c0a10", variants=[1, 2**63])
    frames = offer_frames([offer(), bad_title, bad_variant])
    reasons = {r.record_key: r.reason for r in frames.rejects}
    assert reasons[bad_title["id"]].startswith("name is not valid Unicode (lone surrogate U+D800)")
    assert reasons[bad_variant["id"]].startswith("shopify_variant_ids[1] is beyond BIGINT")
    assert frames.offers["id"].tolist() == [offer()["id"]]


def rejects(conn: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, Any]]:
    rows = conn.execute("select record_key, reason, raw from _rejects").fetchall()
    return {key: (reason, json.loads(raw)) for key, reason, raw in rows}


def test_a_page_with_bad_records_loads_the_good_ones_and_keeps_the_bad_ones(conn):
    page = [
        order(1),
        order(HUGE),
        order(2, customer={"id": 5, "name": "a\ud800b"}),
        order(JUST_PAST),
        order(3, line_items=[{"title": "ok", "quantity": 1}, {"sku": "\udfff"}]),
        order(-5),
        order(4),
    ]
    with OrdersLoad(conn, run_id="r1", flush_rows=3) as load:
        load.add(order_frames(page[:4]))
        load.add(order_frames(page[4:]))
        load.mark_missing()
        counts = load.finish(total_count=len(page))

    assert conn.execute("select id from orders order by id").fetchall() == [(1,), (4,)]
    assert counts.inserted == 2 and counts.rejected == 5
    assert conn.execute("select rows_rejected from sync_runs").fetchone() == (5,)
    kept = rejects(conn)
    assert set(kept) == {str(HUGE), str(JUST_PAST), "2", "3", "-5"}
    reason, raw = kept[str(HUGE)]
    assert reason == f"shopify_order_id is beyond BIGINT: {HUGE}" and raw["id"] == HUGE
    reason, raw = kept["2"]
    assert reason.startswith("customer.name is not valid Unicode (lone surrogate U+D800)")
    assert json.loads(raw)["customer"]["name"] == "a\ud800b"  # raw: the record's JSON text
    assert kept["3"][0].startswith("line_items[1].sku is not valid Unicode")
    # every record was seen: the completeness check counts the rejected ones
    assert checks.live_orders_vs_api(conn) == (len(page), len(page))


def test_a_rejected_order_is_seen_by_a_full_walk_and_not_flagged_missing(conn):
    with OrdersLoad(conn, run_id="r1") as load:
        load.add(order_frames([order(1), order(2)]))
        load.finish()
    with OrdersLoad(conn, run_id="r2") as load:
        load.add(order_frames([order(1), order(2, customer={"name": "\ud800"}), order(HUGE)]))
        assert load.mark_missing() == 0
        load.finish(total_count=3)
    rows = conn.execute("select id, missing_from_api from orders order by id").fetchall()
    assert rows == [(1, False), (2, False)]
    assert checks.live_orders_vs_api(conn) == (3, 3)


def test_offers_load_keeps_the_good_offers_and_rejects_the_bad_title(conn):
    bad = offer("0b7f6a52-0000-4b7e-9a51-5f3f1e0c0a09", name="Drop \ud800")
    with OffersLoad(conn, run_id="o1") as load:
        load.add(offer_frames([offer(), bad]))
        load.mark_missing()
        counts = load.finish()
    assert conn.execute("select id from offers").fetchall() == [(offer()["id"],)]
    assert counts.rejected == 1
    reason, raw = rejects(conn)[bad["id"]]
    assert reason.startswith("name is not valid Unicode")
    assert json.loads(raw)["name"] == "Drop \ud800"


def test_a_key_with_a_lone_surrogate_is_stored_escaped(conn):
    bad = offer("id-\ud800")
    with OffersLoad(conn, run_id="o1") as load:
        load.add(offer_frames([offer(), bad]))
        load.mark_missing()
        load.finish()
    assert set(rejects(conn)) == {"id-\\ud800"}
