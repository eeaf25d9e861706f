"""The code location: the one `Definitions` object, `defs` (loaded by workspace.yaml)."""

from __future__ import annotations

import dagster as dg

from assets.checks import ASSET_CHECKS
from assets.preorders import offers_assets, orders_assets
from assets.report import backlog_report
from pipelines.jobs import sync_preorders
from pipelines.resources import StoqResource, WarehouseResource
from pipelines.schedules import hourly_sync_schedule

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
    ],
    schedules=[
        hourly_sync_schedule,
    ],
    sensors=[],
    resources={
        "stoq": StoqResource(api_key=dg.EnvVar("STOQ_API_KEY")),
        "warehouse": WarehouseResource(),
    },
)
