"""Read-only data-quality queries behind the asset checks (no Dagster here)."""

from __future__ import annotations

from typing import Any

import duckdb

from warehouse import sql
from warehouse.migrate import DEFAULT_SHOP
from warehouse.states import ORDER_STATES

_KEYED = frozenset({"orders", "offers"})


def duplicate_ids(conn: duckdb.DuckDBPyConnection, table: str, *, shop: str | None = None) -> int:
    """Rows of `table` (orders or offers) whose id is not unique in its shop (`shop`, or all)."""
    if table not in _KEYED:
        raise ValueError(f"no key check for table {table!r}")
    cursor = conn.execute(sql.query(f"check_duplicate_ids_{table}"), {"shop": shop})
    return int(_one(cursor)[0])


def unknown_states(conn: duckdb.DuckDBPyConnection, *, shop: str | None = None) -> dict[str, int]:
    """`{state: orders}` for every order state outside the documented set (`shop`'s, or all)."""
    params = {"states": list(ORDER_STATES), "shop": shop}
    rows = conn.execute(sql.query("check_unknown_states"), params)
    return {str(state): int(n) for state, n in rows.fetchall()}


def live_orders_vs_api(
    conn: duckdb.DuckDBPyConnection, shop: str = DEFAULT_SHOP
) -> tuple[int, int | None]:
    """(`shop`'s orders the API still returns per the warehouse, records its last walk rejected
    included, the API's last reported total_count for that shop)."""
    params = {"shop": shop}
    live, total = _one(conn.execute(sql.query("check_live_orders_vs_api"), params))
    return int(live), None if total is None else int(total)


def row_counts(conn: duckdb.DuckDBPyConnection, shop: str | None = None) -> dict[str, int]:
    """Rows in offers, offer_variants, orders and order_line_items (`shop`'s, or every shop's)."""
    rows = conn.execute(sql.query("check_row_counts"), {"shop": shop}).fetchall()
    return {str(k): int(v) for k, v in rows}


def backlog_by_state(
    conn: duckdb.DuckDBPyConnection,
) -> list[tuple[str, str | None, int, int, Any, Any]]:
    """(state, currency, orders, units, deposit_collected, outstanding) per state and currency."""
    return conn.execute(sql.query("check_backlog_by_state")).fetchall()


def _one(cursor: duckdb.DuckDBPyConnection) -> tuple[Any, ...]:
    """The single row an aggregate query returns."""
    row = cursor.fetchone()
    if row is None:
        raise RuntimeError("an aggregate query returned no row")
    return row
