"""The code location: the one `Definitions` object, `defs` (loaded by workspace.yaml)."""

from __future__ import annotations

import dagster as dg

from assets.checks import ASSET_CHECKS
from assets.manifest import stoq_manifest, stoq_manifest_matches_client
from assets.report import backlog_report
from assets.sync_assets import offers_assets, orders_assets
from pipelines.jobs import refresh_stoq_manifest, sync_preorders
from pipelines.ops.balances import collect_balances
from pipelines.ops.exports import export_report
from pipelines.ops.ledger import review_actions, settle_action
from pipelines.ops.offers import manage_offer
from pipelines.ops.release import release_orders
from pipelines.ops.variants import bulk_variant_admin
from pipelines.resources import StoqResource, WarehouseResource
from pipelines.schedules import daily_manifest_schedule, hourly_sync_schedule
from pipelines.sensors import releasable_orders_sensor

# Evaluates backlog_report's eager automation condition: after an `orders` update the job did
# not render the report for (a `preorders sync` recorded from the CLI), one run renders it. On by
# default: it only reads the warehouse and writes the report, never calls STOQ.
backlog_report_sensor = dg.AutomationConditionSensorDefinition(
    "backlog_report_sensor",
    target=dg.AssetSelection.assets(backlog_report),
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Renders backlog_report after each update of orders that did not render it.",
)

defs = dg.Definitions(
    assets=[
        offers_assets,
        orders_assets,
        backlog_report,
        stoq_manifest,
    ],
    asset_checks=[
        *ASSET_CHECKS,
        stoq_manifest_matches_client,
    ],
    jobs=[
        sync_preorders,
        release_orders,
        collect_balances,
        manage_offer,
        export_report,
        bulk_variant_admin,
        review_actions,
        settle_action,
        refresh_stoq_manifest,
    ],
    schedules=[
        hourly_sync_schedule,
        daily_manifest_schedule,
    ],
    sensors=[
        releasable_orders_sensor,
        backlog_report_sensor,
    ],
    resources={
        "stoq": StoqResource(api_key=dg.EnvVar("STOQ_API_KEY")),
        "warehouse": WarehouseResource(),
    },
)
