"""Read the dashboard views (`warehouse/schema/report_*.sql`) into DataFrames; no Dagster.

Each reader returns one view, sorted for display. `load(conn)` reads them all into a `Dashboard`,
the input of the renderer (`preorders/render.py`). The views themselves are documented in
docs/DASHBOARDS.md; a BI tool can query them straight from the DuckDB file. Money comes one row
per currency, with the currency right before its amounts: nothing here sums across currencies.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import duckdb
import pandas as pd

from warehouse.states import ORDER_STATES

#: Dashboard view -> ORDER BY used when reading it. View names only ever come from this mapping.
VIEWS = {
    "report_key_figures": "1",
    "report_money_by_currency": "shop, currency nulls last",
    "report_backlog_by_offer_state": "shop, offer_name, offer_id, state, currency nulls last",
    "report_backlog_over_time": "shop, day, state",
    "report_held_order_age": "shop, bucket_order, state, currency nulls last",
    "report_releasable_queue": "created_at, shop, order_id",
    "report_actions_per_day": "shop, day, action, status",
}

#: States in SPEC §3.1 order, for stable chart colours and column order.
STATE_ORDER = ORDER_STATES


@dataclass(frozen=True)
class Dashboard:
    """Everything the backlog report shows, read in one go."""

    key_figures: dict[str, Any]
    money_by_currency: pd.DataFrame
    backlog_by_offer_state: pd.DataFrame
    backlog_over_time: pd.DataFrame
    held_order_age: pd.DataFrame
    releasable_queue: pd.DataFrame
    actions_per_day: pd.DataFrame


def has_view(conn: duckdb.DuckDBPyConnection, name: str) -> bool:
    """True when the view exists (the actions view needs the `order_actions` ledger)."""
    row = conn.execute(
        "select count(*) from duckdb_views() where view_name = ? and not internal", [name]
    ).fetchone()
    return bool(row and row[0])


def read(conn: duckdb.DuckDBPyConnection, view: str) -> pd.DataFrame:
    """One dashboard view as a DataFrame; an empty frame when the view does not exist yet."""
    if view not in VIEWS:
        raise ValueError(f"not a dashboard view: {view!r}")
    if not has_view(conn, view):
        return pd.DataFrame()
    # Identifiers cannot be bound; both come from the fixed VIEWS mapping checked above.
    return conn.execute(f"select * from {view} order by {VIEWS[view]}").df()


def key_figures(conn: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The one row of `report_key_figures` as plain Python values (None for SQL nulls)."""
    frame = read(conn, "report_key_figures")
    record = frame.iloc[0].to_dict()
    return {str(k): None if _isna(v) else _plain(v) for k, v in record.items()}


def money_by_currency(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Open orders, outstanding, deposits and releasable totals, one row per currency."""
    return read(conn, "report_money_by_currency")


def backlog_by_offer_state(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Open orders, units, deposit collected and outstanding per (offer, state, currency)."""
    return read(conn, "report_backlog_by_offer_state")


def backlog_over_time(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Orders in each state at the end of each UTC day (zero-filled)."""
    return read(conn, "report_backlog_over_time")


def held_order_age(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Open orders and their outstanding per (age bucket, state, currency)."""
    return read(conn, "report_held_order_age")


def releasable_queue(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Fully paid held orders the sensor may release, oldest first."""
    return read(conn, "report_releasable_queue")


def actions_per_day(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Ledger actions per (day, action, status); empty until the ledger exists."""
    return read(conn, "report_actions_per_day")


def load(conn: duckdb.DuckDBPyConnection) -> Dashboard:
    """Read every dashboard view."""
    return Dashboard(
        key_figures=key_figures(conn),
        money_by_currency=money_by_currency(conn),
        backlog_by_offer_state=backlog_by_offer_state(conn),
        backlog_over_time=backlog_over_time(conn),
        held_order_age=held_order_age(conn),
        releasable_queue=releasable_queue(conn),
        actions_per_day=actions_per_day(conn),
    )


def _plain(value: Any) -> Any:
    """Decimals to float, pandas/numpy scalars to Python, so figures serialise anywhere."""
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, Decimal):
        return float(value)
    if hasattr(value, "item"):
        return value.item()
    return value


def _isna(value: Any) -> bool:
    """True for SQL nulls as pandas hands them over (None, NaN, NaT, pd.NA)."""
    return value is None or (not isinstance(value, (list, dict)) and bool(pd.isna(value)))
