"""Dagster assets for the STOQ sync: offers (+ variants) and orders (+ line items).

Thin wiring only: each body opens the client and the warehouse, calls `preorders.sync`, and turns
the `SyncReport` into `MaterializeResult` metadata plus its blocking `<stream>_sync_complete`
check (an incomplete walk, or every record rejected, fails the run). The other checks live in
`assets/checks.py`. The key, and every piece of it, is scrubbed from what a failure records.
"""

from typing import Any, Literal

import dagster as dg

from assets.resources import StoqResource, WarehouseResource
from preorders import sync
from preorders.scrubbing import scrubbed
from warehouse import checks

GROUP = "stoq"
POOL = "duckdb_writer"  # DuckDB has one writer: every asset that writes shares this pool


class OrdersSyncConfig(dg.Config):
    """How the orders walk runs: `auto` picks full when a reconcile is due, else incremental."""

    mode: Literal["auto", "full", "incremental"] = "auto"


def _spec(key: str, description: str) -> dg.AssetSpec:
    return dg.AssetSpec(key, group_name=GROUP, description=description, kinds={"duckdb"})


def _complete_spec(stream: str) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        f"{stream}_sync_complete",
        asset=stream,
        blocking=True,
        description=f"This run's {stream} walk provably saw every record the API counts, "
        "and not every record it read was rejected.",
    )


def incomplete_reason(report: sync.SyncReport) -> str | None:
    """Why one stream's sync cannot be trusted as complete (None: it can)."""
    rejected, read = report.counts.get("rejected", 0), report.records
    if read > 0 and rejected >= read:
        return (
            f"every one of the {read:,} {report.stream} read was rejected (see _rejects); "
            "nothing was loaded"
        )
    if report.complete:
        return None
    kept = "; the high-water mark was not moved" if report.stream == "orders" else ""
    if report.total_count is None:  # the walk could not prove what it saw is everything
        return (
            f"sync incomplete: the {report.stream} walk could not prove it saw every record the "
            f"API counts ({read:,} records read){kept}"
        )
    of = f"{report.total_count:,} {report.stream}"
    return f"sync incomplete: saw {read:,} of {of} the API counts{kept}"


def completeness_check(report: sync.SyncReport) -> dg.AssetCheckResult:
    """The blocking `<stream>_sync_complete` result of this run's walk (ERROR when it fails)."""
    reason = incomplete_reason(report)
    return dg.AssetCheckResult(
        check_name=f"{report.stream}_sync_complete",
        asset_key=report.stream,
        passed=reason is None,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "reason": reason or "complete",
            "records_read": report.records,
            "rows_rejected": report.counts.get("rejected", 0),
            "api_total_count": report.total_count,
        },
    )


@dg.multi_asset(
    specs=[
        _spec("offers", "One row per preorder offer (selling plan); flagged when gone."),
        _spec("offer_variants", "Shopify variants attached to each offer, replaced per offer."),
    ],
    check_specs=[_complete_spec("offers")],
    pool=POOL,
)
def offers_assets(
    context: dg.AssetExecutionContext, stoq: StoqResource, warehouse: WarehouseResource
):
    """Walk every STOQ offer (any status); merge offers and their variants in one transaction."""
    with scrubbed(stoq.api_key), stoq.client() as client, warehouse.get_connection() as conn:
        report = sync.sync_offers(client, conn, run_id=context.run.run_id)
        rows = checks.row_counts(conn)
    meta = report_metadata(report)
    yield dg.MaterializeResult(asset_key="offers", metadata={**meta, "table_rows": rows["offers"]})
    yield dg.MaterializeResult(
        asset_key="offer_variants", metadata={**meta, "table_rows": rows["offer_variants"]}
    )
    yield completeness_check(report)


@dg.multi_asset(
    specs=[
        _spec("orders", "One row per preorder order (Shopify order id), derived state and money."),
        _spec("order_line_items", "Line items of each order, replaced when the order changes."),
    ],
    check_specs=[_complete_spec("orders")],
    pool=POOL,
)
def orders_assets(
    context: dg.AssetExecutionContext,
    config: OrdersSyncConfig,
    stoq: StoqResource,
    warehouse: WarehouseResource,
):
    """Sync STOQ orders: a full reconcile walk, or new orders plus a cheap re-read of open ones."""
    with scrubbed(stoq.api_key), stoq.client() as client, warehouse.get_connection() as conn:
        report = sync.sync_orders(client, conn, run_id=context.run.run_id, mode=config.mode)
        rows = checks.row_counts(conn)
    meta = report_metadata(report)
    yield dg.MaterializeResult(asset_key="orders", metadata={**meta, "table_rows": rows["orders"]})
    yield dg.MaterializeResult(
        asset_key="order_line_items", metadata={**meta, "table_rows": rows["order_line_items"]}
    )
    yield completeness_check(report)


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
