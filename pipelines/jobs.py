"""Jobs of the code location."""

from __future__ import annotations

import dagster as dg

SYNC_ASSETS = ("offers", "offer_variants", "orders", "order_line_items")
REPORT = "backlog_report"  # rendered after every sync, so it never lags behind its data

# In-process: DuckDB has one writer, so the steps of a sync run one after another.
sync_preorders = dg.define_asset_job(
    "sync_preorders",
    selection=dg.AssetSelection.assets(*SYNC_ASSETS, REPORT),
    description="Sync offers and orders from STOQ into DuckDB, run their checks, then render"
    " the backlog report.",
    executor_def=dg.in_process_executor,
)

# The daily contract-drift fetch: one /help request, then the stoq_manifest_matches_client check.
refresh_stoq_manifest = dg.define_asset_job(
    "refresh_stoq_manifest",
    selection=dg.AssetSelection.assets("stoq_manifest"),
    description="Fetch STOQ's /help manifest into stoq_manifest and check it against the client.",
    executor_def=dg.in_process_executor,
)
