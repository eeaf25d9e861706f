"""Dagster assets for the STOQ sync: offers (+ variants) and orders (+ line items).

Thin wiring only: each body opens the client and the warehouse, calls `preorders.sync`, and turns
the `SyncReport` into `MaterializeResult` metadata plus its blocking `<stream>_sync_complete`
check (an incomplete walk, or every record rejected, fails the run). The other checks live in
`assets/checks.py`. The key, and every piece of it, is scrubbed from what a failure records.
Each materialization carries Dagster's table metadata (`dagster/row_count`, `dagster/table_name`,
`dagster/column_schema` from DuckDB's catalog; `assets/metadata.py`); each spec an owner, kinds,
tags and a `FreshnessPolicy` (warn 2 h, fail 3 h after the last sync: the hourly schedule may
miss one run before it warns, two before it fails).
The walks log their phases as the CLI prints them off a terminal: start, end, and at most one
progress line (pages of total, orders, rate-limit waits, ETA) every 10 s.
"""

from collections.abc import Iterator
from datetime import timedelta
from typing import Literal

import dagster as dg
import duckdb

from assets.checks import check_result
from assets.metadata import materialization_metadata
from assets.resources import POOL, StoqResource, WarehouseResource
from preorders import checks, sync, sync_report
from preorders.progress_lines import Lines
from preorders.scrubbing import Redact, scrubbed
from warehouse import checks as warehouse_checks
from warehouse import tables

GROUP = "stoq"
OWNERS = ["team:preorders"]
FRESHNESS = dg.FreshnessPolicy.time_window(
    fail_window=timedelta(hours=3), warn_window=timedelta(hours=2)
)
#: Tables holding customers' names and emails (in columns, never in metadata).
PII = frozenset({"orders"})


class OrdersSyncConfig(dg.Config):
    """How the orders walk runs: `auto` picks full when a reconcile is due, else incremental."""

    mode: Literal["auto", "full", "incremental"] = "auto"


def _spec(key: str, description: str) -> dg.AssetSpec:
    return dg.AssetSpec(
        key,
        group_name=GROUP,
        description=description,
        kinds={"duckdb", "table"},
        owners=OWNERS,
        tags={"source": "stoq", "pii": str(key in PII).lower()},
        freshness_policy=FRESHNESS,
    )


def _complete_spec(stream: str) -> dg.AssetCheckSpec:
    description = checks.completeness_description(stream)
    return dg.AssetCheckSpec(
        f"{stream}_sync_complete", asset=stream, blocking=True, description=description
    )


def _log_lines(context: dg.AssetExecutionContext, redact: Redact) -> Lines:
    """The sync's progress as lines in the run's log."""
    return Lines(lambda line: context.log.info(redact(line)))


def _facts(
    conn: duckdb.DuckDBPyConnection, stream: str
) -> tuple[dict[str, int], dict[str, tables.TableShape]]:
    """Row counts and catalog shapes of the stream's tables, read after its load."""
    shapes = tables.describe_all(conn, sync_report.TABLES[stream])
    return warehouse_checks.row_counts(conn), shapes


def _results(
    report: sync_report.SyncReport,
    facts: tuple[dict[str, int], dict[str, tables.TableShape]],
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """One materialization per table of the stream, then its completeness check."""
    for table, meta in sync_report.table_metadata([report], *facts).items():
        yield dg.MaterializeResult(asset_key=table, metadata=materialization_metadata(meta))
    yield check_result(checks.completeness(report))


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
    with (
        scrubbed(stoq.api_key) as redact,
        stoq.client() as client,
        warehouse.get_connection() as conn,
    ):
        progress = _log_lines(context, redact)
        report = sync.sync_offers(client, conn, run_id=context.run.run_id, progress=progress)
        facts = _facts(conn, "offers")
    yield from _results(report, facts)


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
    with (
        scrubbed(stoq.api_key) as redact,
        stoq.client() as client,
        warehouse.get_connection() as conn,
    ):
        report = sync.sync_orders(
            client, conn, run_id=context.run.run_id, mode=config.mode,
            progress=_log_lines(context, redact),
        )  # fmt: skip
        facts = _facts(conn, "orders")
    yield from _results(report, facts)
