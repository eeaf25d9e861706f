"""frames: typed columns, lenient extras, rejects for bad shapes, clear missing-key errors."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tests.warehouse.factory import OFFER_A, OFFER_B, offer, order
from warehouse.errors import MissingKey
from warehouse.frames import offer_frames, order_frames


def test_order_columns_are_typed() -> None:
    frames = order_frames([order(5512345678901, lines=[(OFFER_A, 2), (OFFER_B, 1)])])
    row = frames.orders.iloc[0]
    assert frames.orders["id"].dtype == "int64"
    assert row["id"] == 5512345678901
    assert row["created_at"] == pd.Timestamp("2025-07-01T19:15:12Z")
    assert str(frames.orders["created_at"].dtype) == "datetime64[ns, UTC]"
    assert pd.isna(row["cancelled_at"]) and pd.isna(row["charged_at"])
    assert (row["total_price"], row["deposit"], row["total_outstanding"]) == (
        "100.00",
        "20.00",
        "80.00",
    )
    assert row["customer_id"] == 7000 + 5512345678901
    assert row["tags"] == ["preorder"]
    assert row["offer_ids"] == sorted([OFFER_A, OFFER_B])
    assert json.loads(row["raw"])["shopify_order_id"] == 5512345678901
    items = frames.line_items
    assert list(items["line_index"]) == [0, 1]
    assert list(items["offer_id"]) == [OFFER_A, OFFER_B]
    assert list(items["quantity"]) == [2, 1]
    assert frames.rejects == []


def test_timestamps_with_offsets_are_normalised_to_utc() -> None:
    frames = order_frames([order(1, created_at="2025-07-01T21:15:12.5+02:00")])
    assert frames.orders.iloc[0]["created_at"] == pd.Timestamp("2025-07-01T19:15:12.5Z")


def test_unknown_fields_stay_in_raw_and_missing_optionals_are_null() -> None:
    rec = {"shopify_order_id": 9, "state": "placed", "created_at": "2025-07-01T00:00:00Z"}
    rec["surprise"] = {"nested": [1, 2]}
    frames = order_frames([rec])
    row = frames.orders.iloc[0]
    assert json.loads(row["raw"])["surprise"] == {"nested": [1, 2]}
    assert row["name"] is None and row["total_price"] is None and pd.isna(row["customer_id"])
    assert row["tags"] is None
    assert frames.line_items.empty


def test_numbers_and_digit_strings_are_accepted_where_unambiguous() -> None:
    rec = order(3, totals={"total_price": 100}, customer={"id": "7001"})
    row = order_frames([rec]).orders.iloc[0]
    assert row["total_price"] == "100" and row["customer_id"] == 7001


def test_id_falls_back_when_shopify_order_id_is_absent() -> None:
    rec = order(42)
    del rec["shopify_order_id"]
    assert list(order_frames([rec]).orders["id"]) == [42]


@pytest.mark.parametrize(
    ("override", "reason"),
    [
        ({"totals": {"total_price": "12,50"}}, "total_price is not a decimal amount"),
        ({"payments": {"deposit": "a lot"}}, "deposit is not a decimal amount"),
        ({"state": 3}, "state is missing or not a string"),
        ({"state": None}, "state is missing or not a string"),
        ({"line_items": {"0": {}}}, "line_items is not a list"),
        ({"line_items": ["x"]}, "line_items[0] is not an object"),
        ({"line_items": [{"quantity": "two"}]}, "line_items[0].quantity is not a 32-bit"),
        ({"tags": "preorder"}, "tags is not a list of strings"),
        ({"customer": "jane"}, "customer is not an object"),
        ({"created_at": "yesterday"}, "created_at is not an ISO 8601 timestamp"),
        ({"cancelled_at": "2025-13-45T00:00:00Z"}, "cancelled_at is not an ISO 8601 timestamp"),
    ],
)
def test_bad_shapes_become_rejects(override: dict, reason: str) -> None:
    good, bad = order(1), order(2, **override)
    frames = order_frames([good, bad])
    assert list(frames.orders["id"]) == [1]
    assert set(frames.line_items["order_id"]) == {1}
    [reject] = frames.rejects
    assert reject.record_key == "2"
    assert reason in reject.reason
    assert json.loads(reject.raw)["shopify_order_id"] == 2


def test_a_non_integer_key_is_a_reject_not_an_error() -> None:
    frames = order_frames([order(1, shopify_order_id="abc")])
    assert frames.orders.empty
    assert frames.rejects[0].record_key == "abc"


def test_missing_key_raises_a_clear_error() -> None:
    rec = order(1)
    del rec["shopify_order_id"], rec["id"]
    with pytest.raises(MissingKey, match=r"orders record #1 has no 'shopify_order_id' or 'id'"):
        order_frames([order(2), rec])


def test_duplicate_keys_in_one_batch_keep_the_last() -> None:
    frames = order_frames([order(1, name="old"), order(2), order(1, name="new", lines=[])])
    assert sorted(frames.orders["id"]) == [1, 2]
    assert frames.orders.set_index("id").loc[1, "name"] == "new"
    assert list(frames.line_items["order_id"]) == [2]


def test_empty_batch_gives_empty_frames() -> None:
    frames = order_frames([])
    assert frames.orders.empty and frames.line_items.empty and frames.rejects == []
    assert "raw" in frames.orders.columns


def test_offer_frames_read_fields_and_variants() -> None:
    frames = offer_frames([offer(OFFER_A, variants=[11, 12, 11]), offer(OFFER_B, variants=[])])
    a = frames.offers.set_index("id").loc[OFFER_A]
    assert a["billing_checkout_charge_percentage"] == "20.0"
    assert a["delivery_at"] == pd.Timestamp("2025-09-01T00:00:00Z")
    assert a["variant_count"] == 2 and bool(a["enabled"]) is True
    links = frames.offer_variants
    assert list(zip(links["offer_id"], links["shopify_variant_id"], strict=True)) == [
        (OFFER_A, 11),
        (OFFER_A, 12),
    ]


def test_offer_fields_are_found_inside_capabilities() -> None:
    rec = {
        "id": OFFER_A,
        "name": "Nested",
        "capabilities": {
            "payments": {"billing_type": "exact_time", "billing_checkout_charge_amount": "15.00"},
            "products": {"shopify_variant_ids": [7, 8]},
        },
    }
    frames = offer_frames([rec])
    row = frames.offers.iloc[0]
    assert (row["billing_type"], row["billing_checkout_charge_amount"]) == ("exact_time", "15.00")
    assert list(frames.offer_variants["shopify_variant_id"]) == [7, 8]
    assert row["variant_count"] == 2


def test_offer_rejects_and_missing_key() -> None:
    frames = offer_frames([offer(OFFER_A, enabled="yes"), offer(OFFER_B)])
    assert list(frames.offers["id"]) == [OFFER_B]
    assert frames.rejects[0].record_key == OFFER_A
    assert "enabled is not a boolean" in frames.rejects[0].reason
    with pytest.raises(MissingKey, match="offers record #0 has no 'id'"):
        offer_frames([{"name": "no id"}])


def test_raw_is_exactly_what_json_dumps_writes() -> None:
    # orders.raw is compared verbatim by the merge and fingerprinted (md5) by the ledger:
    # any change of its text would re-key every order's actions.
    odd = {"é€😀": 'x, y: "z" \\ \n\t\u0001/', "f": [1.5e-7, 1e16, -0.0], "big": 10**30}
    rec = order(7, notes=odd, nan=float("nan"), empty=[[], {}])
    frames = order_frames([rec, order(8, name="Zoë")])
    assert list(frames.orders["raw"]) == [json.dumps(rec), json.dumps(order(8, name="Zoë"))]
