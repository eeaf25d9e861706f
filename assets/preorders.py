"""Dagster assets for the STOQ sync: offers (+ variants) and orders (+ line items).

Thin wiring only: each body opens the client and the warehouse, calls `assets.sync`, and turns
the `SyncReport` into `MaterializeResult` metadata. The checks live in `assets/checks.py`.
"""

from typing import Any, Literal

import dagster as dg

from assets import sync
from assets.resources import StoqResource, WarehouseResource
from warehouse import checks

GROUP = "stoq"
POOL = "duckdb_writer"  # DuckDB has one writer: every asset that writes shares this pool


class OrdersSyncConfig(dg.Config):
    """How the orders walk runs: `auto` picks full when a reconcile is due, else incremental."""

    mode: Literal["auto", "full", "incremental"] = "auto"


def _spec(key: str, description: str) -> dg.AssetSpec:
    return dg.AssetSpec(key, group_name=GROUP, description=description, kinds={"duckdb"})


@dg.multi_asset(
    specs=[
        _spec("offers", "One row per preorder offer (selling plan); flagged when gone."),
        _spec("offer_variants", "Shopify variants attached to each offer, replaced per offer."),
    ],
    pool=POOL,
)
def offers_assets(
    context: dg.AssetExecutionContext, stoq: StoqResource, warehouse: WarehouseResource
):
    """Walk every STOQ offer (any status); merge offers and their variants in one transaction."""
    with stoq.client() as client, warehouse.get_connection() as conn:
        report = sync.sync_offers(client, conn, run_id=context.run.run_id)
        rows = checks.row_counts(conn)
    meta = report_metadata(report)
    yield dg.MaterializeResult(asset_key="offers", metadata={**meta, "table_rows": rows["offers"]})
    yield dg.MaterializeResult(
        asset_key="offer_variants", metadata={**meta, "table_rows": rows["offer_variants"]}
    )


@dg.multi_asset(
    specs=[
        _spec("orders", "One row per preorder order (Shopify order id), derived state and money."),
        _spec("order_line_items", "Line items of each order, replaced when the order changes."),
    ],
    pool=POOL,
)
def orders_assets(
    context: dg.AssetExecutionContext,
    config: OrdersSyncConfig,
    stoq: StoqResource,
    warehouse: WarehouseResource,
):
    """Sync STOQ orders: a full reconcile walk, or new orders plus a cheap re-read of open ones."""
    with stoq.client() as client, warehouse.get_connection() as conn:
        report = sync.sync_orders(client, conn, run_id=context.run.run_id, mode=config.mode)
        rows = checks.row_counts(conn)
    meta = report_metadata(report)
    yield dg.MaterializeResult(asset_key="orders", metadata={**meta, "table_rows": rows["orders"]})
    yield dg.MaterializeResult(
        asset_key="order_line_items", metadata={**meta, "table_rows": rows["order_line_items"]}
    )


def report_metadata(report: sync.SyncReport) -> dict[str, Any]:
    """The figures of one stream's sync, named for the Dagster UI."""
    counts = report.counts
    return {
        "mode": report.mode,
        "rows_inserted": counts.get("inserted", 0),
        "rows_updated": counts.get("updated", 0),
        "rows_unchanged": counts.get("unchanged", 0),
        "rows_rejected": counts.get("rejected", 0),
        "rows_missing": counts.get("missing", 0),
        "state_changes": counts.get("state_changes", 0),
        "records_read": report.records,
        "walks": report.walks,
        "pages": report.pages,
        "single_reads": report.singles,
        "requests": report.requests,
        "retries": report.retries,
        "rate_limited_429": report.rate_limited,
        "drift": report.drift,
        "complete": report.complete,
        "api_total_count": report.total_count,
        "duration_s": dg.MetadataValue.float(report.duration_s),
    }
