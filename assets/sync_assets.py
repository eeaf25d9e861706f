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

Partitioned by shop (assets/shops.py): a run syncs the shop of its partition, with that shop's
client (its key read at run time) and rows. The two multi-assets are in no pool: different shops'
walks overlap, and only the sync's short reads and its merge open the DuckDB file (waiting on its
lock, `WarehouseResource.get_connection`); their checks and the report stay in `duckdb_writer`.
"""

from collections.abc import Iterator
from datetime import timedelta
from typing import Literal

import dagster as dg

from assets.checks import check_result
from assets.metadata import materialization_metadata
from assets.resources import StoqResource, WarehouseResource
from assets.shops import SHOP_PARTITIONS, partitioned_checks, run_shop
from preorders import checks, sync, sync_report
from preorders.progress_lines import Lines
from preorders.scrubbing import Redact, scrubbed
from preorders.shops import Shop
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
    """A synced table's spec (its partitions come from the multi-asset)."""
    return dg.AssetSpec(
        key,
        group_name=GROUP,
        description=description,
        kinds={"duckdb", "table"},
        owners=OWNERS,
        tags={"source": "stoq", "pii": str(key in PII).lower()},
        freshness_policy=FRESHNESS,
    )


def _complete_spec(stream: str, partitions: dg.PartitionsDefinition) -> dg.AssetCheckSpec:
    """The blocking `<stream>_sync_complete` check, one result per shop (partition)."""
    description = checks.completeness_description(stream)
    with partitioned_checks():
        return dg.AssetCheckSpec(
            f"{stream}_sync_complete",
            asset=stream,
            blocking=True,
            description=description,
            partitions_def=partitions,
        )


def _log_lines(context: dg.AssetExecutionContext, redact: Redact) -> Lines:
    """The sync's progress as lines in the run's log."""
    return Lines(lambda line: context.log.info(redact(line)))


def _facts(
    warehouse: WarehouseResource, stream: str, shop: str
) -> tuple[dict[str, int], dict[str, tables.TableShape]]:
    """The shop's row counts and the catalog shapes of the stream's tables, read after its load
    (the file opened again, briefly)."""
    with warehouse.get_connection() as conn:
        shapes = tables.describe_all(conn, sync_report.TABLES[stream])
        return warehouse_checks.row_counts(conn, shop), shapes


def _shop(context: dg.AssetExecutionContext) -> Shop:
    """The run's shop: its partition's (a run without a partition: the single shop)."""
    return run_shop(context.partition_key if context.has_partition_key else None)


def _results(
    report: sync_report.SyncReport,
    facts: tuple[dict[str, int], dict[str, tables.TableShape]],
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """One materialization per table of the stream, then its completeness check."""
    for table, meta in sync_report.table_metadata([report], *facts).items():
        yield dg.MaterializeResult(asset_key=table, metadata=materialization_metadata(meta))
    yield check_result(checks.completeness(report))


def build_sync_assets(
    partitions: dg.PartitionsDefinition,
) -> tuple[dg.AssetsDefinition, dg.AssetsDefinition]:
    """`offers_assets` and `orders_assets`, partitioned by `partitions` (one key per shop)."""

    @dg.multi_asset(
        name="offers_assets",
        specs=[
            _spec("offers", "One row per preorder offer (selling plan); flagged when gone."),
            _spec("offer_variants", "Shopify variants attached to each offer, replaced per offer."),
        ],
        check_specs=[_complete_spec("offers", partitions)],
        partitions_def=partitions,
    )
    def offers_assets(
        context: dg.AssetExecutionContext, stoq: StoqResource, warehouse: WarehouseResource
    ):
        """Walk every STOQ offer (any status) of the run's shop; merge offers and their variants
        in one transaction."""
        shop = _shop(context)
        settings = stoq.shop_settings(shop)
        with scrubbed(settings.api_key) as redact, settings.client() as client:
            report = sync.sync_offers(
                client, warehouse.get_connection, run_id=context.run.run_id,
                progress=_log_lines(context, redact), shop=shop.name,
            )  # fmt: skip
        yield from _results(report, _facts(warehouse, "offers", shop.name))

    @dg.multi_asset(
        name="orders_assets",
        specs=[
            _spec(
                "orders", "One row per preorder order (Shopify order id), derived state and money."
            ),
            _spec("order_line_items", "Line items of each order, replaced when the order changes."),
        ],
        check_specs=[_complete_spec("orders", partitions)],
        partitions_def=partitions,
    )
    def orders_assets(
        context: dg.AssetExecutionContext,
        config: OrdersSyncConfig,
        stoq: StoqResource,
        warehouse: WarehouseResource,
    ):
        """Sync the run's shop's STOQ orders: a full reconcile walk, or new orders plus a cheap
        re-read of open ones."""
        shop = _shop(context)
        settings = stoq.shop_settings(shop)
        with scrubbed(settings.api_key) as redact, settings.client() as client:
            report = sync.sync_orders(
                client, warehouse.get_connection, run_id=context.run.run_id, mode=config.mode,
                progress=_log_lines(context, redact), shop=shop.name,
            )  # fmt: skip
        yield from _results(report, _facts(warehouse, "orders", shop.name))

    return offers_assets, orders_assets


offers_assets, orders_assets = build_sync_assets(SHOP_PARTITIONS)
