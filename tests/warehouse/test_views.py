"""Views on a hand-computed fixture: preorder_backlog (offer x state) and releasable_orders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import duckdb

from tests.warehouse.factory import OFFER_A, OFFER_B, order
from warehouse.frames import order_frames
from warehouse.loads import OrdersLoad


def _ago(days: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days, hours=6)).isoformat()


def _load(
    conn: duckdb.DuckDBPyConnection, records: list[dict[str, Any]], missing: list[int]
) -> None:
    """Load `records`, then a second full walk without `missing` so those get flagged."""
    for run, batch in (("r1", records), ("r2", [r for r in records if r["id"] not in missing])):
        with OrdersLoad(conn, run_id=run) as load:
            load.add(order_frames(batch))
            load.mark_missing()
            load.finish()


def test_preorder_backlog_by_offer_and_state(conn: duckdb.DuckDBPyConnection) -> None:
    records = [
        order(1, state="awaiting_balance", created_at=_ago(3), lines=[(OFFER_A, 2)]),
        order(
            2,
            state="awaiting_balance",
            created_at=_ago(20),
            total="200.00",
            deposit="50.00",
            lines=[(OFFER_A, 1), (OFFER_B, 3)],
        ),
        order(3, state="placed", created_at=_ago(45), outstanding="100.00", lines=[(OFFER_B, 1)]),
        order(4, state="balance_collected", created_at=_ago(100), lines=[(OFFER_A, 1)]),
        order(5, state="fulfilled", created_at=_ago(3)),
        order(6, state="cancelled", created_at=_ago(3)),
        order(7, state="awaiting_balance", created_at=_ago(3), lines=[(OFFER_B, 9)]),
        order(8, state="placed", created_at=_ago(1), lines=[], offer_ids=[OFFER_B]),
    ]
    _load(conn, records, missing=[7])
    rows = conn.execute(
        "select offer_id, state, orders, units, deposit_collected, outstanding, orders_0_7d,"
        " orders_8_30d, orders_31_90d, orders_over_90d from preorder_backlog order by all"
    ).fetchall()
    d = Decimal
    assert rows == [
        (OFFER_A, "awaiting_balance", 2, 3, d("70.00"), d("230.00"), 1, 1, 0, 0),
        (OFFER_A, "balance_collected", 1, 1, d("20.00"), d("0.00"), 0, 0, 0, 1),
        (OFFER_B, "awaiting_balance", 1, 3, d("50.00"), d("150.00"), 0, 1, 0, 0),
        (OFFER_B, "placed", 2, 1, d("0.00"), d("180.00"), 1, 0, 1, 0),
    ]


def test_order_without_any_offer_is_counted_under_null(conn: duckdb.DuckDBPyConnection) -> None:
    _load(conn, [order(1, state="placed", created_at=_ago(2), lines=[(None, 4)])], missing=[])
    rows = conn.execute("select offer_id, state, orders, units from preorder_backlog").fetchall()
    assert rows == [(None, "placed", 1, 4)]


def test_releasable_orders_rule(conn: duckdb.DuckDBPyConnection) -> None:
    collected = {"state": "balance_collected"}
    records = [
        order(1, **collected),
        order(2, **collected, outstanding="5.00"),
        order(3, **collected, cancelled_at="2025-08-01T00:00:00Z"),
        order(4, **collected, financial_status="refunded"),
        order(5, **collected),  # goes missing from the API
        order(6, state="released"),
        order(7, **collected, financial_status="partially_refunded"),
        order(8, state="awaiting_balance", outstanding="0.00"),
    ]
    _load(conn, records, missing=[5])
    frame = conn.execute("select * from releasable_orders").df()
    assert list(frame.columns) == [
        "shop",
        "id",
        "name",
        "created_at",
        "currency",
        "total_price",
        "customer_id",
        "offer_ids",
        "last_synced_at",
    ]
    assert list(frame["id"]) == [1]
    assert frame.loc[0, "total_price"] == 100
