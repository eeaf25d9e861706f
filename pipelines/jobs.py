"""Jobs of the code location."""

from __future__ import annotations

import dagster as dg

SYNC_ASSETS = ("offers", "offer_variants", "orders", "order_line_items")

# In-process: DuckDB has one writer, so the steps of a sync run one after another.
sync_preorders = dg.define_asset_job(
    "sync_preorders",
    selection=dg.AssetSelection.assets(*SYNC_ASSETS),
    description="Sync offers and orders from STOQ into DuckDB, then run their checks.",
    executor_def=dg.in_process_executor,
)
