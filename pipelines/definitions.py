"""The code location: the one `Definitions` object, `defs` (loaded by workspace.yaml)."""

from __future__ import annotations

import dagster as dg

from assets.checks import ASSET_CHECKS
from assets.report import backlog_report
from assets.sync_assets import offers_assets, orders_assets
from pipelines.jobs import sync_preorders
from pipelines.ops.balances import collect_balances
from pipelines.ops.exports import export_report
from pipelines.ops.offers import manage_offer
from pipelines.ops.release import release_orders
from pipelines.ops.variants import bulk_variant_admin
from pipelines.resources import StoqResource, WarehouseResource
from pipelines.schedules import hourly_sync_schedule
from pipelines.sensors import releasable_orders_sensor

defs = dg.Definitions(
    assets=[
        offers_assets,
        orders_assets,
        backlog_report,
    ],
    asset_checks=[
        *ASSET_CHECKS,
    ],
    jobs=[
        sync_preorders,
        release_orders,
        collect_balances,
        manage_offer,
        export_report,
        bulk_variant_admin,
    ],
    schedules=[
        hourly_sync_schedule,
    ],
    sensors=[
        releasable_orders_sensor,
    ],
    resources={
        "stoq": StoqResource(api_key=dg.EnvVar("STOQ_API_KEY")),
        "warehouse": WarehouseResource(),
    },
)
