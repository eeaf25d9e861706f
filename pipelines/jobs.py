"""Jobs of the code location."""

from __future__ import annotations

import dagster as dg

from assets.shops import SHOP_PARTITIONS, shop_tags

SYNC_ASSETS = ("offers", "offer_variants", "orders", "order_line_items")
REPORT = "backlog_report"  # rendered after every sync, so it never lags behind its data


def build_sync_job(partitions: dg.PartitionsDefinition) -> dg.UnresolvedAssetJobDefinition:
    """`sync_preorders` over shops `partitions`: a run syncs one shop (its partition) and carries
    `stoq/shop=<shop>`, however it is launched as a partition (schedule, UI, backfill)."""
    # In-process: the steps of one shop's sync run one after another.
    return dg.define_asset_job(
        "sync_preorders",
        selection=dg.AssetSelection.assets(*SYNC_ASSETS, REPORT),
        description="Sync one shop's offers and orders from STOQ into DuckDB (the partition is"
        " the shop), run their checks, then render the backlog report of every shop.",
        config=dg.PartitionedConfig(
            partitions_def=partitions,
            run_config_for_partition_key_fn=lambda _shop: {},
            tags_for_partition_key_fn=shop_tags,
        ),
        executor_def=dg.in_process_executor,
    )


sync_preorders = build_sync_job(SHOP_PARTITIONS)

# The daily contract-drift fetch: one /help request, then the stoq_manifest_matches_client check.
refresh_stoq_manifest = dg.define_asset_job(
    "refresh_stoq_manifest",
    selection=dg.AssetSelection.assets("stoq_manifest"),
    description="Fetch STOQ's /help manifest into stoq_manifest and check it against the client.",
    executor_def=dg.in_process_executor,
)
