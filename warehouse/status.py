"""Read-only queries behind `preorders status` (no Dagster here): per-stream sync, open ledger rows.

The jobs in flight come from `warehouse.jobs.open_jobs`, the releasable orders the ledger would
send from `preorders.actions.plan_release`; this module reads only what nothing else does.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import duckdb

from warehouse import sql
from warehouse.migrate import DEFAULT_SHOP


def streams(conn: duckdb.DuckDBPyConnection, shop: str = DEFAULT_SHOP) -> list[dict[str, Any]]:
    """Per stream (offers, orders) of `shop`: its last run (run_id, mode, outcome, started_at,
    finished_at, message), last_success_at, high_water_mark, last_total_count and table_rows;
    nulls when the stream was never synced."""
    cursor = conn.execute(sql.query("status_streams"), {"shop": shop})
    names = [d[0] for d in cursor.description or ()]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def open_ledger_rows(
    conn: duckdb.DuckDBPyConnection, statuses: Iterable[str], shop: str = DEFAULT_SHOP
) -> list[tuple[str, str, int, datetime | None]]:
    """(action, status, rows, oldest sent-or-planned time) of `shop`'s real ledger rows in
    `statuses`."""
    params = {"statuses": sorted(statuses), "shop": shop}
    rows = conn.execute(sql.query("status_ledger_open"), params).fetchall()
    return [(str(action), str(status), int(n), oldest) for action, status, n, oldest in rows]


def releasable_count(conn: duckdb.DuckDBPyConnection, shop: str = DEFAULT_SHOP) -> int:
    """`shop`'s orders in the `releasable_orders` view."""
    row = conn.execute(sql.query("status_releasable_count"), {"shop": shop}).fetchone()
    return int(row[0]) if row else 0


def database_path(conn: duckdb.DuckDBPyConnection) -> str | None:
    """The file behind the connection's current database (None when it is in memory)."""
    row = conn.execute(sql.query("stage_database_path")).fetchone()
    return str(row[0]) if row and row[0] else None
