"""Compare the warehouse with the sandbox's ground truth, row for row."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import duckdb

ORDER_SQL = """
    select id, state, financial_status, fulfillment_status, cancelled_at is not null,
           total_price, deposit, balance, total_outstanding, customer_id, missing_from_api
    from orders order by id
"""
LINES_SQL = """
    select order_id, line_index, shopify_variant_id, shopify_product_id, offer_id, quantity, price
    from order_line_items order by order_id, line_index
"""
OFFER_SQL = "select id, status, enabled, missing_since is null from offers order by id"


def _money(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.01"))


def truth_orders(shop: Any) -> list[tuple]:
    rows = []
    for o in shop.truth_orders():
        pay = o["payments"]
        rows.append(
            (
                o["id"], o["state"], o["financial_status"], o["fulfillment_status"],
                o["cancelled_at"] is not None, _money(o["totals"]["total_price"]),
                _money(pay["deposit"]), _money(pay["balance"]), _money(pay["total_outstanding"]),
                o["customer"]["id"], False,
            )
        )  # fmt: skip
    return sorted(rows)


def truth_lines(shop: Any) -> list[tuple]:
    rows = []
    for o in shop.truth_orders():
        for i, li in enumerate(o["line_items"]):
            rows.append(
                (
                    o["id"], i, li["shopify_variant_id"], li["shopify_product_id"],
                    li["offer_id"], li["quantity"], _money(li["price"]),
                )
            )  # fmt: skip
    return sorted(rows)


def truth_offers(shop: Any) -> list[tuple]:
    return sorted((o["id"], o["status"], o["enabled"], True) for o in shop.truth_offers())


def warehouse_rows(conn: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    orders = [(*r[:5], *map(_money, r[5:9]), *r[9:]) for r in conn.execute(ORDER_SQL).fetchall()]
    lines = [(*r[:6], _money(r[6])) for r in conn.execute(LINES_SQL).fetchall()]
    return {"orders": orders, "lines": lines, "offers": conn.execute(OFFER_SQL).fetchall()}


TERMINAL = ("fulfilled", "cancelled", "refunded")


def assert_matches_truth(
    conn: duckdb.DuckDBPyConnection, shop: Any, *, stale_terminal_ok: bool = False
) -> int:
    """orders, order_line_items and offers equal the shop's truth (ids, states, money, lines).

    `stale_terminal_ok`: an incremental run does not re-read orders it holds as terminal (a
    fulfilled order refunded later waits for the next full reconcile); those may differ.
    Returns how many such stale orders were tolerated.
    """
    got = warehouse_rows(conn)
    want_orders = truth_orders(shop)
    assert [g[0] for g in got["orders"]] == [w[0] for w in want_orders]
    diff = [(g, w) for g, w in zip(got["orders"], want_orders, strict=True) if g != w]
    stale = [d for d in diff if stale_terminal_ok and d[0][1] in TERMINAL]
    diff = [d for d in diff if d not in stale]
    assert not diff, f"{len(diff)} orders differ, e.g. {diff[:2]}"
    assert got["lines"] == truth_lines(shop)
    assert got["offers"] == truth_offers(shop)
    return len(stale)
